package org.qlimit.cli;

import java.io.PrintWriter;
import org.qlimit.run.QuantizationRun;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The qlimit command line. Every bad argument or file ends in a one-line error on stderr that
 * says what to do, and a non-zero exit code: 2 for usage errors (unknown or missing options,
 * option values out of range or not fitting the data: {@link Validated}, {@link UsageError}),
 * 1 for failures (files, data that does not fit the model, computation). Running out of memory
 * is a failure too: a one-line report ({@link OutOfMemory}), never a stack trace.
 */
@Command(name = "qlimit", mixinStandardHelpOptions = true, version = "qlimit " + Main.VERSION,
    description = "Extreme low-bit post-training quantization (BRECQ, QDrop, mixed precision).",
    subcommands = {DemoCommand.class, QuantizeCommand.class, EvalCommand.class,
        TrainCommand.class, MixedCommand.class, MixedSweepCommand.class, ProbeCommand.class,
        ArchsCommand.class, ExportCommand.class, TraceCommand.class, CompareCommand.class,
        CommandLine.HelpCommand.class})
public final class Main implements Runnable {
  static final String VERSION = QuantizationRun.VERSION;

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command line and returns the exit code (used by tests). */
  public static int execute(String... args) {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionStrategy(parsed -> {
      validate(parsed);
      return new CommandLine.RunLast().execute(parsed);
    });
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
      Throwable t = ex;
      PrintWriter err = cmd.getErr();
      String msg = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
      if (t instanceof UsageError) {
        return usageError(cmd, msg);
      }
      if (t instanceof IllegalArgumentException || t instanceof java.io.IOException
          || t instanceof java.io.UncheckedIOException || t instanceof IllegalStateException
          || t instanceof OutOfMemory) {
        err.println(commandName(cmd) + ": error: " + withFileCause(t, msg));
      } else {
        err.println("qlimit " + cmd.getCommandName() + ": internal error: " + t);
        t.printStackTrace(err);
      }
      err.flush();
      return 1;
    });
    cl.setParameterExceptionHandler((ex, args2) -> usageError(ex.getCommandLine(),
        ex.getMessage()));
    String command = args.length > 0 ? args[0] : "";
    try {
      return cl.execute(args);
    } catch (OutOfMemoryError e) {
      // the command's frames are gone, so what it allocated can be collected; drop the parser
      // (it holds the command objects) before building the message
      cl = null;
      System.err.println("qlimit " + command + ": error: " + OutOfMemory.generic(command, e));
      System.err.flush();
      return 1;
    }
  }

  /**
   * Calls {@link Validated#validate} on the command about to run and on its mixins (unless help
   * or the version was asked for); a rejected value becomes a picocli ParameterException, so it
   * is reported like every other usage error.
   */
  private static void validate(CommandLine.ParseResult parsed) {
    java.util.List<CommandLine> chain = parsed.asCommandLineList();
    for (CommandLine c : chain) {
      if (c.isUsageHelpRequested() || c.isVersionHelpRequested()) {
        return;
      }
    }
    CommandLine last = chain.get(chain.size() - 1);
    try {
      validate(last.getCommandSpec());
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(last, e.getMessage(), e);
    }
  }

  private static void validate(CommandLine.Model.CommandSpec spec) {
    for (CommandLine.Model.CommandSpec mixin : spec.mixins().values()) {
      validate(mixin);
    }
    if (spec.userObject() instanceof Validated v) {
      v.validate();
    }
  }

  /**
   * The JDK reports some file-system failures with the path alone as the message (a missing
   * folder: {@code NoSuchFileException: /x}); this adds what went wrong when a failure in the
   * cause chain is such a one, so the line says why as well as where.
   */
  static String withFileCause(Throwable t, String msg) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof java.nio.file.FileSystemException fs && fs.getReason() == null) {
        String why = fs instanceof java.nio.file.NoSuchFileException ? "no such file or folder"
            : fs instanceof java.nio.file.AccessDeniedException ? "permission denied"
            : fs instanceof java.nio.file.FileAlreadyExistsException ? "already exists"
            : fs instanceof java.nio.file.NotDirectoryException ? "not a folder"
            : fs instanceof java.nio.file.DirectoryNotEmptyException ? "folder not empty"
            : "file system error (" + fs.getClass().getSimpleName() + ")";
        return msg + " (" + why + ")";
      }
    }
    return msg;
  }

  /**
   * How a message names the command: "qlimit quantize", "qlimit probe flatness" (the root
   * itself: "qlimit qlimit").
   */
  private static String commandName(CommandLine cmd) {
    return cmd.getParent() == null ? "qlimit " + cmd.getCommandName()
        : cmd.getCommandSpec().qualifiedName(" ");
  }

  /** A usage error: one line on stderr, exit code 2. */
  private static int usageError(CommandLine cmd, String message) {
    PrintWriter err = cmd.getErr();
    err.println(commandName(cmd) + ": " + message + " (see '"
        + (cmd.getParent() == null ? "qlimit" : commandName(cmd)) + " --help')");
    err.flush();
    return 2;
  }
}
