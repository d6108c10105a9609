package dev.tiergate.metering;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The last scrape of each DCGM exporter, kept per replica: a failed scrape keeps the
 * exporter's last figures and its error; figures older than the stale limit are flagged,
 * never used as if current. Written by the scraping thread, read by views without a lock.
 */
public final class DcgmReadings {

	private final Map<String, Scrape> exporters = new ConcurrentHashMap<>();

	/**
	 * Records a scrape.
	 * @param exporter the exporter (e.g. its pod key)
	 * @param text its exposition
	 * @param at when it was read
	 */
	public void scraped(String exporter, String text, Instant at) {
		List<DcgmExposition.GpuSample> samples;
		try {
			samples = DcgmExposition.parse(text);
		}
		catch (IllegalArgumentException ex) {
			failed(exporter, ex.getMessage());
			return;
		}
		this.exporters.put(exporter, new Scrape(samples, at, null));
	}

	/**
	 * Records a failed scrape: the last figures stay, with the error.
	 * @param exporter the exporter
	 * @param error what went wrong
	 */
	public void failed(String exporter, String error) {
		this.exporters.compute(exporter, (key, last) -> (last != null) ? new Scrape(last.samples(), last.at(), error)
				: new Scrape(List.of(), null, error));
	}

	/**
	 * Forgets an exporter that is gone.
	 * @param exporter the exporter
	 */
	public void removed(String exporter) {
		this.exporters.remove(exporter);
	}

	/**
	 * Every GPU's last figures.
	 * @param now the time now
	 * @param staleAfter age past which figures are stale
	 * @return one reading per GPU, and one without sample for an exporter never read
	 */
	public List<GpuReading> readings(Instant now, Duration staleAfter) {
		List<GpuReading> readings = new ArrayList<>();
		this.exporters.forEach((exporter, scrape) -> {
			if (scrape.at() == null) {
				readings.add(new GpuReading(exporter, null, null, true, scrape.error()));
				return;
			}
			Duration age = Duration.between(scrape.at(), now);
			boolean stale = age.compareTo(staleAfter) > 0;
			scrape.samples()
				.forEach((sample) -> readings.add(new GpuReading(exporter, sample, age, stale, scrape.error())));
		});
		return readings;
	}

	private record Scrape(List<DcgmExposition.GpuSample> samples, Instant at, String error) {

	}

	/**
	 * One GPU as last read.
	 *
	 * @param exporter the exporter that reported it
	 * @param sample its figures, or {@code null} when the exporter was never read
	 * @param age how old they are, or {@code null}
	 * @param stale whether they are older than the stale limit (or missing)
	 * @param error the last scrape's error, or {@code null} when it succeeded
	 */
	public record GpuReading(String exporter, DcgmExposition.GpuSample sample, Duration age, boolean stale,
			String error) {

	}

}
