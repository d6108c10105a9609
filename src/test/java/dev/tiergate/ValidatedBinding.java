package dev.tiergate;

import java.util.Map;

import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.validation.ValidationBindHandler;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.validation.beanvalidation.LocalValidatorFactoryBean;

/**
 * Binds configuration properties as the application does, with their bean validation, for
 * the tests of what a setting accepts and refuses at start.
 */
public final class ValidatedBinding {

	private ValidatedBinding() {
	}

	/**
	 * Binds {@code type} under {@code prefix} from {@code properties}, or creates it with
	 * its defaults when none is set.
	 * @param <T> the properties' type
	 * @param prefix such as {@code tiergate.proxy}
	 * @param type the properties' class
	 * @param properties the settings, by their full names
	 * @return the bound properties
	 * @throws org.springframework.boot.context.properties.bind.BindException when a value
	 * is refused, naming the setting
	 */
	public static <T> T bind(String prefix, Class<T> type, Map<String, String> properties) {
		try (LocalValidatorFactoryBean validator = new LocalValidatorFactoryBean()) {
			validator.afterPropertiesSet();
			return new Binder(new MapConfigurationPropertySource(properties)).bindOrCreate(prefix, Bindable.of(type),
					new ValidationBindHandler(validator));
		}
	}

}
