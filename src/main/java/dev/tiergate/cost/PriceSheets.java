package dev.tiergate.cost;

import java.util.concurrent.atomic.AtomicReference;

/**
 * The price sheet in force, held in memory (the defaults at start; not persisted across
 * restarts). Changes replace it whole, after validation.
 */
public class PriceSheets {

	private final AtomicReference<PriceSheet> current = new AtomicReference<>(PriceSheet.defaults());

	/**
	 * The sheet in force.
	 * @return the sheet
	 */
	public PriceSheet current() {
		return this.current.get();
	}

	/**
	 * Replaces the sheet.
	 * @param sheet a validated sheet
	 * @return the sheet now in force
	 */
	public PriceSheet replace(PriceSheet sheet) {
		this.current.set(sheet);
		return sheet;
	}

}
