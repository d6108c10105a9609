package dev.tiergate;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * Tiergate's entry point.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class TiergateApplication {

	public static void main(String[] args) {
		SpringApplication.run(TiergateApplication.class, args);
	}

}
