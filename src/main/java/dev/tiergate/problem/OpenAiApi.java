package dev.tiergate.problem;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a controller of the OpenAI-compatible API ({@code /v1/**}): its failures are
 * answered as OpenAI's error JSON, which OpenAI clients understand, instead of problem
 * details.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface OpenAiApi {

}
