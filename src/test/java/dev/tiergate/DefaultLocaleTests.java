package dev.tiergate;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * Tests that no text Tiergate produces depends on the JVM's default locale through case
 * conversion: the API values, metric tags and page classes made from enum names
 * ({@code PROBING}, {@code CLIENT_GONE}) would come out with a dotless {@code ı} under a
 * Turkish or Azerbaijani default locale. {@code toLowerCase(Locale.ROOT)} is the way.
 */
class DefaultLocaleTests {

	@Test
	void noCaseConversionUsesTheDefaultLocale() {
		JavaClasses classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
			.importPackages("dev.tiergate");
		noClasses().should()
			.callMethod(String.class, "toLowerCase")
			.orShould()
			.callMethod(String.class, "toUpperCase")
			.because("the default locale changes the result; pass Locale.ROOT")
			.check(classes);
	}

}
