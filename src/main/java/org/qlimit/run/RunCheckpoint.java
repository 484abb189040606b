package org.qlimit.run;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.qlimit.io.SafeTensors;
import org.qlimit.io.SafeTensorsFile;
import org.qlimit.nn.Model;
import org.qlimit.quant.QuantState;
import org.qlimit.recon.QuantExport;
import org.qlimit.recon.Reconstructor;
import org.qlimit.recon.UnitRecord;

/**
 * The per-unit checkpoint of a quantization run: {@code OUT/checkpoint.safetensors}, the
 * quantized model so far (the {@link QuantExport} layout) plus, in its metadata, the records of
 * the units done and a key over everything that determines the result (model file, architecture,
 * calibration images, reconstruction configuration, per-layer bits). Threads and vector width are
 * not in the key: they do not change results, so a run may be resumed with other settings.
 *
 * <p>The file is replaced atomically after each unit (written beside it, then moved), so a run
 * killed at any moment leaves the last complete unit's checkpoint. A successful run deletes it.
 */
public final class RunCheckpoint {
  public static final String FILE = "checkpoint.safetensors";
  private static final String KEY = "checkpoint_key";
  private static final String RECORDS = "checkpoint_records";

  private final Path file;
  private final String key;

  /**
   * The checkpoint of the run with key {@code key} (a SHA-256 in hex over what determines the
   * result) in folder {@code outDir}.
   */
  public RunCheckpoint(Path outDir, String key) {
    this.file = outDir.resolve(FILE);
    this.key = key;
  }

  public Path file() {
    return file;
  }

  public boolean exists() {
    return Files.isRegularFile(file);
  }

  /** Writes the checkpoint (atomically replacing the previous one). */
  public void save(Reconstructor.Checkpoint c) {
    try {
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling(FILE + ".tmp");
      Map<String, String> meta = new LinkedHashMap<>();
      meta.put(KEY, key);
      meta.put(RECORDS, encode(c.records()));
      QuantExport.write(tmp, c.state(), meta);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write checkpoint " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Reads the checkpoint back; its key must be this run's.
   *
   * @throws IllegalArgumentException when there is no checkpoint or it belongs to another run
   * @throws IOException when the file cannot be read
   */
  public Reconstructor.Checkpoint load(Model model) throws IOException {
    if (!exists()) {
      throw new IllegalArgumentException("--resume: no checkpoint at " + file
          + "; run without --resume to start");
    }
    SafeTensorsFile f = SafeTensors.read(file);
    Map<String, String> meta = f.metadata();
    if (!key.equals(meta.get(KEY))) {
      throw new IllegalArgumentException("--resume: " + file + " was written by a run with other "
          + "options, model or calibration data; rerun with the options of that run, or without "
          + "--resume to start over");
    }
    QuantState state = QuantExport.read(f, model);
    return new Reconstructor.Checkpoint(state, decode(meta.getOrDefault(RECORDS, "")));
  }

  /** Removes the checkpoint (a finished run). */
  public void delete() throws IOException {
    Files.deleteIfExists(file);
  }

  // One record per line: unit, phase, iters, then the three doubles as raw IEEE bits in hex
  // (exact round trip, NaN included), then the reason a skipped unit was skipped (empty when it
  // ran), tab-separated. Lines of six fields (no reason) are read as units that ran.
  public static String encode(List<UnitRecord> records) {
    StringBuilder b = new StringBuilder();
    for (UnitRecord r : records) {
      String reason = r.isSkipped() ? r.skipped() : "";
      if (r.unit().indexOf('\t') >= 0 || r.unit().indexOf('\n') >= 0
          || reason.indexOf('\t') >= 0 || reason.indexOf('\n') >= 0) {
        throw new IllegalArgumentException("unit record '" + r.unit() + "' contains a tab or "
            + "newline");
      }
      b.append(r.unit()).append('\t').append(r.phase()).append('\t').append(r.iters())
          .append('\t').append(Long.toHexString(Double.doubleToRawLongBits(r.lossBefore())))
          .append('\t').append(Long.toHexString(Double.doubleToRawLongBits(r.lossAfter())))
          .append('\t').append(Long.toHexString(Double.doubleToRawLongBits(r.seconds())))
          .append('\t').append(reason).append('\n');
    }
    return b.toString();
  }

  /** The records of {@link #encode}'s text; IllegalArgumentException naming a malformed line. */
  public static List<UnitRecord> decode(String s) {
    List<UnitRecord> out = new ArrayList<>();
    for (String line : s.split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      String[] f = line.split("\t", -1);
      if (f.length != 6 && f.length != 7) {
        throw new IllegalArgumentException("checkpoint: malformed unit record '" + line + "'");
      }
      try {
        out.add(new UnitRecord(f[0], f[1], Integer.parseInt(f[2]),
            Double.longBitsToDouble(Long.parseUnsignedLong(f[3], 16)),
            Double.longBitsToDouble(Long.parseUnsignedLong(f[4], 16)),
            Double.longBitsToDouble(Long.parseUnsignedLong(f[5], 16)),
            f.length == 7 && !f[6].isEmpty() ? f[6] : null));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("checkpoint: malformed unit record '" + line + "'");
      }
    }
    return out;
  }
}
