package dev.tiergate.dispatch;

import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import dev.tiergate.tier.Tier;
import dev.tiergate.tier.TierProperties;

/**
 * Throughput of the scheduler core: one cycle is a request submitted, a request
 * dispatched and a request finished, on a pool of 1,000 endpoints with 3 tiers (20% P0,
 * 30% P1, 50% P2) and 100 tenants of mixed weights.
 * <ul>
 * <li>{@code saturated}: every slot busy and a standing queue; each finish dispatches a
 * waiting request, P0 arrivals take back borrowed slots or preempt P2.
 * <li>{@code unsaturated}: slots to spare; each submit dispatches at once.
 * </ul>
 * Run: see {@code docs/benchmarks.md}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = { "-Xms1g", "-Xmx1g" })
public class SchedulerBenchmark {

	private static final int ENDPOINTS = 1_000;

	private static final int SLOTS = 8;

	private static final int TENANTS = 100;

	@Param({ "saturated", "unsaturated" })
	public String load;

	private PoolScheduler scheduler;

	private Lease[] ring;

	private int head;

	private int tail;

	private int size;

	private Tier[] tiers;

	private String[] tenants;

	private int[] weights;

	private long[] costs;

	private int next;

	private long now;

	@Setup(Level.Trial)
	public void setUp() {
		this.ring = new Lease[1 << 16];
		SchedulerDecisions sink = new SchedulerDecisions() {

			@Override
			public void dispatched(Ticket ticket, Lease lease) {
				SchedulerBenchmark.this.ring[SchedulerBenchmark.this.tail] = lease;
				SchedulerBenchmark.this.tail = (SchedulerBenchmark.this.tail + 1)
						& (SchedulerBenchmark.this.ring.length - 1);
				SchedulerBenchmark.this.size++;
			}

			@Override
			public void preempted(Lease lease, boolean requeued) {
			}

			@Override
			public void rejected(Ticket ticket, RejectReason reason) {
			}

		};
		this.scheduler = new PoolScheduler("bench", TierProperties.DEFAULTS, 2, 1_000_000, sink);
		for (int i = 0; i < ENDPOINTS; i++) {
			this.scheduler.upsertEndpoint("e" + i, SLOTS, true, null, 0);
		}
		Random random = new Random(42);
		this.tiers = new Tier[4096];
		this.tenants = new String[4096];
		this.weights = new int[4096];
		this.costs = new long[4096];
		String[] names = new String[TENANTS];
		for (int t = 0; t < TENANTS; t++) {
			names[t] = "tenant-" + t;
		}
		for (int i = 0; i < this.tiers.length; i++) {
			int roll = random.nextInt(10);
			this.tiers[i] = (roll < 2) ? Tier.P0 : (roll < 5) ? Tier.P1 : Tier.P2;
			int tenant = random.nextInt(TENANTS);
			this.tenants[i] = names[tenant];
			this.weights[i] = 1 + tenant % 4;
			this.costs[i] = 200 + random.nextInt(4000);
		}
		int fill = "saturated".equals(this.load) ? ENDPOINTS * SLOTS + 5_000 : ENDPOINTS * SLOTS / 2;
		for (int i = 0; i < fill; i++) {
			submit();
		}
	}

	private void submit() {
		int i = this.next++ & (this.tiers.length - 1);
		this.scheduler.submit(new Ticket(this.tenants[i], this.tiers[i], this.costs[i], this.weights[i]), this.now);
	}

	/**
	 * One cycle: finish the oldest running lease (which dispatches a waiting request when
	 * saturated), submit one.
	 * @return the scheduler's queue length, so the work is not optimized away
	 */
	@Benchmark
	public int cycle() {
		this.now += 1_000;
		while (this.size > 0) {
			Lease lease = this.ring[this.head];
			this.head = (this.head + 1) & (this.ring.length - 1);
			this.size--;
			if (this.scheduler.finish(lease, this.now)) {
				break;
			}
		}
		submit();
		return this.scheduler.queued();
	}

}
