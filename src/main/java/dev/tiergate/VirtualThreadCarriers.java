package dev.tiergate;

/**
 * How many platform threads carry the virtual threads that serve requests. The JDK's
 * default is one per processor; Tiergate leaves one processor to the platform threads
 * that every request also wakes (Tomcat's poller, Lettuce's event loop, the quota's
 * settling thread, the JDK's I/O poller, the garbage collector). On two processors one
 * carrier took at least 8% less CPU per request than two in every alternated pair at 500
 * and 1,000 requests per second, where two carriers kept waking each other for work that
 * one of them had already taken; at the maximum rate the pairs split
 * (docs/benchmarks.md). A {@code -Djdk.virtualThreadScheduler.parallelism} given on the
 * command line is kept.
 * <p>
 * The JDK reads the property once, when the first virtual thread is created: call
 * {@link #leaveOneProcessor()} first thing in {@code main}.
 */
final class VirtualThreadCarriers {

	/** The JDK's system property for the default scheduler's carrier count. */
	static final String PARALLELISM = "jdk.virtualThreadScheduler.parallelism";

	private VirtualThreadCarriers() {
	}

	/** Sets the carrier count, unless it is set already. */
	static void leaveOneProcessor() {
		if (System.getProperty(PARALLELISM) == null) {
			System.setProperty(PARALLELISM, Integer.toString(carriers(Runtime.getRuntime().availableProcessors())));
		}
	}

	/**
	 * The carrier count for a number of processors.
	 * @param processors the processors available to the JVM
	 * @return one fewer than the processors, at least one
	 */
	static int carriers(int processors) {
		return Math.max(1, processors - 1);
	}

}
