package dev.tiergate.proxy;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tests for {@link RequestBodies#readWhole}: a declared length is read into one array of
 * that size, however the bytes arrive; a short body is refused; no length reads to the
 * end.
 */
class RequestBodiesTests {

	/** Hands out at most 7 bytes a read, as a socket may. */
	private static InputStream trickling(byte[] bytes) {
		return new FilterInputStream(new ByteArrayInputStream(bytes)) {

			@Override
			public int read(byte[] b, int off, int len) throws IOException {
				return super.read(b, off, Math.min(len, 7));
			}

		};
	}

	@Test
	void aDeclaredLengthIsReadWholeFromManySmallReads() throws Exception {
		byte[] body = new byte[5_000];
		Arrays.fill(body, (byte) 'a');
		assertThat(RequestBodies.readWhole(trickling(body), 5_000)).isEqualTo(body);
		assertThat(RequestBodies.readWhole(trickling(new byte[0]), 0)).isEmpty();
	}

	@Test
	void aBodyShorterThanDeclaredIsRefusedWithBothLengths() {
		assertThatThrownBy(() -> RequestBodies.readWhole(trickling(new byte[30]), 100)).isInstanceOf(EOFException.class)
			.hasMessage("The body ended after 30 of its 100 bytes");
	}

	@Test
	void aDeclaredLengthBeyondTheUpFrontAllocationIsReadAsItArrivesAndStillChecked() throws Exception {
		assertThatThrownBy(() -> RequestBodies.readWhole(trickling(new byte[30]), 5_000_000_000L))
			.as("no 5 GB array for a header's word")
			.isInstanceOf(EOFException.class)
			.hasMessage("The body ended after 30 of its 5000000000 bytes");
		byte[] body = new byte[RequestBodies.PREALLOCATED_MAX + 10];
		Arrays.fill(body, (byte) 'c');
		assertThat(RequestBodies.readWhole(new ByteArrayInputStream(body), body.length)).isEqualTo(body);
	}

	@Test
	void withoutALengthTheBodyIsReadToItsEnd() throws Exception {
		byte[] body = new byte[70_000];
		Arrays.fill(body, (byte) 'b');
		assertThat(RequestBodies.readWhole(trickling(body), -1)).isEqualTo(body);
	}

}
