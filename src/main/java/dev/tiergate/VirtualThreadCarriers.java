package dev.tiergate;

/**
 * How many platform threads carry the virtual threads that serve requests. The JDK's
 * default is one per processor; Tiergate leaves one processor to the platform threads
 * that every request also wakes (Tomcat's poller, Lettuce's event loop, the quota's
 * settling thread, the JDK's I/O poller, the garbage collector). On two processors one
 * carrier took 13-20% less CPU per request at 500 requests per second and 18% less at the
 * maximum rate, answering 21-26% more requests per second (docs/benchmarks.md): two
 * carriers kept waking each other for work that one of them had already taken. A
 * {@code -Djdk.virtualThreadScheduler.parallelism} given on the command line is kept.
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
