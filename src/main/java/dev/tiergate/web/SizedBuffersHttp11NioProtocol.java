package dev.tiergate.web;

import org.apache.coyote.http11.Http11NioProtocol;

/**
 * Tomcat's NIO HTTP/1.1 protocol with the response buffer's size set
 * ({@code desiredBufferSize}): Tomcat's connector sizes each response's output buffer by
 * it, and without it allocates 8 KB of bytes and 16 KB of characters per response (8,192
 * of each), which a replica holding thousands of streams pays once per stream. A servlet
 * may still ask for more ({@code setBufferSize}). Public with a public constructor:
 * Tomcat creates its protocol by class name.
 */
public class SizedBuffersHttp11NioProtocol extends Http11NioProtocol {

	private volatile int desiredBufferSize = -1;

	@Override
	public int getDesiredBufferSize() {
		return this.desiredBufferSize;
	}

	/**
	 * Sets the response buffer's size; Tomcat's connector sets it from
	 * {@code desiredBufferSize}.
	 * @param desiredBufferSize bytes (and characters) buffered per response; {@code -1}
	 * for Tomcat's default
	 */
	public void setDesiredBufferSize(int desiredBufferSize) {
		this.desiredBufferSize = desiredBufferSize;
	}

}
