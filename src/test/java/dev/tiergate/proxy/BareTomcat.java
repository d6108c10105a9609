package dev.tiergate.proxy;

import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.startup.Tomcat;

import jakarta.servlet.http.HttpServlet;

/**
 * An embedded Tomcat, the container the application runs on, with one async-supported
 * servlet on one path and nothing else, for tests of what the proxy does at the servlet
 * level.
 */
final class BareTomcat implements AutoCloseable {

	private final Tomcat tomcat = new Tomcat();

	/**
	 * Starts Tomcat on a free port.
	 * @param path the servlet's path
	 * @param servlet the servlet
	 * @throws LifecycleException when Tomcat does not start
	 */
	BareTomcat(String path, HttpServlet servlet) throws LifecycleException {
		this.tomcat.setPort(0);
		this.tomcat.setBaseDir(System.getProperty("java.io.tmpdir"));
		this.tomcat.getConnector();
		Context context = this.tomcat.addContext("", null);
		Tomcat.addServlet(context, "servlet", servlet).setAsyncSupported(true);
		context.addServletMappingDecoded(path, "servlet");
		this.tomcat.start();
	}

	int port() {
		return this.tomcat.getConnector().getLocalPort();
	}

	@Override
	public void close() throws LifecycleException {
		this.tomcat.stop();
		this.tomcat.destroy();
	}

}
