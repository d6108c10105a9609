package dev.tiergate;

import java.time.Clock;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.annotation.Bean;

/**
 * Tiergate's entry point.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class TiergateApplication {

	public static void main(String[] args) {
		SpringApplication.run(TiergateApplication.class, args);
	}

	/**
	 * The one clock that time-dependent logic reads; tests replace it.
	 * @return the system clock in UTC
	 */
	@Bean
	Clock clock() {
		return Clock.systemUTC();
	}

}
