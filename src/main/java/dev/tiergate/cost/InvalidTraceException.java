package dev.tiergate.cost;

/**
 * A trace that cannot be read: says which line and what is wrong with it.
 */
public class InvalidTraceException extends RuntimeException {

	private final String trace;

	private final long line;

	/**
	 * An error in a trace.
	 * @param trace the trace's name
	 * @param line the 1-based line number, 0 when it concerns the whole trace
	 * @param problem what is wrong
	 */
	public InvalidTraceException(String trace, long line, String problem) {
		super(((line > 0) ? trace + " line " + line + ": " : trace + ": ") + problem);
		this.trace = trace;
		this.line = line;
	}

	/**
	 * The trace's name.
	 * @return the name
	 */
	public String trace() {
		return this.trace;
	}

	/**
	 * The line at fault.
	 * @return the 1-based line number, 0 for the whole trace
	 */
	public long line() {
		return this.line;
	}

}
