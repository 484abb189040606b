package org.qlimit.arch;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.Architectures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package dependency table of docs/STYLE.md §2 (extended with {@code model}, {@code mixed},
 * {@code train}, {@code integer}, {@code export}, {@code trace}, {@code run} and {@code cli}),
 * enforced on the compiled main classes. A package may use only the layers listed for it.
 */
class ArchitectureTest {
  private static JavaClasses classes;

  @BeforeAll
  static void load() {
    classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("org.qlimit");
  }

  @Test
  void layersRespectTheDependencyTable() {
    Architectures.layeredArchitecture().consideringOnlyDependenciesInLayers()
        .withOptionalLayers(true)
        .layer("util").definedBy("org.qlimit.util..")
        .layer("kernel").definedBy("org.qlimit.kernel..")
        .layer("tensor").definedBy("org.qlimit.tensor..")
        .layer("autograd").definedBy("org.qlimit.autograd..")
        .layer("nn").definedBy("org.qlimit.nn..")
        .layer("optim").definedBy("org.qlimit.optim..")
        .layer("quant").definedBy("org.qlimit.quant..")
        .layer("data").definedBy("org.qlimit.data..")
        .layer("io").definedBy("org.qlimit.io..")
        .layer("model").definedBy("org.qlimit.model..")
        .layer("recon").definedBy("org.qlimit.recon..")
        .layer("eval").definedBy("org.qlimit.eval..")
        .layer("mixed").definedBy("org.qlimit.mixed..")
        .layer("integer").definedBy("org.qlimit.integer..")
        .layer("export").definedBy("org.qlimit.export..")
        .layer("trace").definedBy("org.qlimit.trace..")
        .layer("train").definedBy("org.qlimit.train..")
        .layer("run").definedBy("org.qlimit.run..")
        .layer("cli").definedBy("org.qlimit.cli..")
        .whereLayer("cli").mayNotBeAccessedByAnyLayer()
        .whereLayer("run").mayOnlyBeAccessedByLayers("cli")
        .whereLayer("mixed").mayOnlyBeAccessedByLayers("run", "cli")
        .whereLayer("integer").mayOnlyBeAccessedByLayers("cli")
        .whereLayer("export").mayOnlyBeAccessedByLayers("cli")
        .whereLayer("trace").mayOnlyBeAccessedByLayers("integer", "cli")
        .whereLayer("train").mayOnlyBeAccessedByLayers("cli")
        .whereLayer("recon").mayOnlyBeAccessedByLayers("mixed", "run", "cli")
        .whereLayer("eval").mayOnlyBeAccessedByLayers("recon", "mixed", "train", "run", "cli",
            "integer")
        .whereLayer("model").mayOnlyBeAccessedByLayers("mixed", "train", "run", "export", "cli",
            "integer")
        .whereLayer("quant").mayOnlyBeAccessedByLayers("recon", "eval", "mixed", "run", "export",
            "trace", "cli", "integer")
        .whereLayer("optim").mayOnlyBeAccessedByLayers("quant", "recon", "mixed", "cli", "model",
            "train")
        .whereLayer("io").mayOnlyBeAccessedByLayers("recon", "eval", "model", "mixed", "train",
            "run", "trace", "cli", "integer")
        .whereLayer("data").mayOnlyBeAccessedByLayers("recon", "eval", "model", "mixed", "train",
            "run", "cli", "integer")
        .whereLayer("nn").mayOnlyBeAccessedByLayers("quant", "recon", "eval", "model", "mixed",
            "train", "run", "export", "trace", "cli", "integer")
        .whereLayer("autograd").mayOnlyBeAccessedByLayers("nn", "optim", "quant", "recon", "eval",
            "model", "mixed", "train", "export", "trace", "cli", "integer")
        .whereLayer("tensor").mayOnlyBeAccessedByLayers("autograd", "nn", "optim", "quant", "data",
            "io", "recon", "eval", "model", "mixed", "train", "run", "export", "trace", "cli",
            "integer")
        .whereLayer("kernel").mayOnlyBeAccessedByLayers("tensor", "autograd", "nn", "optim",
            "quant", "recon", "eval", "model", "mixed", "train", "run", "trace", "cli", "integer")
        .whereLayer("util").mayOnlyBeAccessedByLayers("kernel", "tensor", "autograd", "nn",
            "optim", "quant", "data", "io", "recon", "eval", "model", "mixed", "train", "run",
            "export", "trace", "cli", "integer")
        .check(classes);
  }

  @Test
  void onlyTheKernelPackageUsesTheVectorApi() {
    noClasses().that().resideOutsideOfPackage("org.qlimit.kernel..")
        .should().dependOnClassesThat().resideInAPackage("jdk.incubator.vector..")
        .check(classes);
  }

  @Test
  void noPackageCycles() {
    slices().matching("org.qlimit.(*)..").should().beFreeOfCycles().check(classes);
  }

  /**
   * picocli and JFreeChart are optional dependencies in pom.xml (a library user does not take
   * them), so only the command line may use them; the text progress bar lives there too.
   */
  @Test
  void onlyTheCommandLineUsesItsOwnDependencies() {
    noClasses().that().resideOutsideOfPackage("org.qlimit.cli..")
        .should().dependOnClassesThat().resideInAnyPackage("picocli..", "org.jfree..")
        .orShould().dependOnClassesThat().haveSimpleName("ProgressBar")
        .check(classes);
  }

  @Test
  void libraryCodeDoesNotPrint() {
    noClasses().that().resideOutsideOfPackages("org.qlimit.cli..")
        .should().accessField(System.class, "out").orShould().accessField(System.class, "err")
        .check(classes);
  }
}
