package dev.tiergate;

import java.time.Clock;
import java.util.Arrays;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.annotation.Bean;

import dev.tiergate.cost.SimulateCommand;

/**
 * Tiergate's entry point.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class TiergateApplication {

	public static void main(String[] args) {
		if (args.length > 0 && "simulate".equals(args[0])) {
			// The simulator needs no Spring context, Redis or cluster: start it at once.
			System.exit(SimulateCommand.run(Arrays.copyOfRange(args, 1, args.length), System.out, System.err));
		}
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
