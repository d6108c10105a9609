package dev.tiergate.audit;

import java.time.Instant;

/**
 * One change made through Tiergate.
 *
 * @param id the entry's Redis stream id (empty before it is recorded)
 * @param at when the change was made
 * @param actor who made it: an operator's name, a CI token's name, or {@code system}
 * @param kind what kind of thing changed, e.g. {@code sharing-profile},
 * {@code node-label}, {@code priority-class}, {@code device-plugin-restart}, {@code tier}
 * @param action what was done: {@code create}, {@code update}, {@code delete}, ...
 * @param target the name of the thing that changed
 * @param before its state before, as text ({@code ""} when it did not exist)
 * @param after its state after, as text ({@code ""} when it no longer exists)
 */
public record AuditEntry(String id, Instant at, String actor, String kind, String action, String target, String before,
		String after) {

}
