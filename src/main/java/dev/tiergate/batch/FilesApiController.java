package dev.tiergate.batch;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.springframework.http.MediaType;
import org.springframework.security.core.annotation.AuthenticationPrincipal;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.multipart.MultipartFile;

import dev.tiergate.problem.OpenAiApi;
import dev.tiergate.proxy.ProxyProperties;
import dev.tiergate.quota.Tenant;
import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

/**
 * OpenAI's Files API for batch input: {@code POST /v1/files} (multipart, {@code file} and
 * {@code purpose=batch}), {@code GET /v1/files}, {@code GET /v1/files/{id}}, {@code GET
 * /v1/files/{id}/content}, {@code DELETE /v1/files/{id}}. An upload is checked line by
 * line while it is stored; a bad file is refused with the numbers of its first bad lines
 * and stored not at all. Every file belongs to the tenant whose key uploaded it; another
 * tenant's is answered 404.
 */
@RestController
@OpenAiApi
class FilesApiController {

	private final FileStore files;

	private final ServedModels models;

	private final BatchProperties properties;

	private final ProxyProperties proxy;

	private final JsonMapper json;

	private final Clock clock;

	FilesApiController(FileStore files, ServedModels models, BatchProperties properties, ProxyProperties proxy,
			JsonMapper json, Clock clock) {
		this.files = files;
		this.models = models;
		this.properties = properties;
		this.proxy = proxy;
		this.json = json;
		this.clock = clock;
	}

	@PostMapping(path = "/v1/files", consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
	Map<String, Object> upload(@RequestParam(name = "file", required = false) MultipartFile file,
			@RequestParam(name = "purpose", required = false) String purpose, @AuthenticationPrincipal Tenant tenant)
			throws IOException {
		if (purpose == null || purpose.isBlank()) {
			throw BatchException.invalid("purpose", "is required; use \"batch\"");
		}
		if (!purpose.equals("batch")) {
			throw BatchException.invalid("purpose", "'" + purpose + "' is not supported here; use \"batch\"");
		}
		if (file == null) {
			throw BatchException.invalid("file", "is required (a multipart part named \"file\" with the JSONL)");
		}
		long limit = this.properties.maxFileSize().toBytes();
		if (file.getSize() > limit) {
			throw tooLarge(file.getSize(), limit);
		}
		String filename = (file.getOriginalFilename() != null && !file.getOriginalFilename().isBlank())
				? file.getOriginalFilename() : "upload.jsonl";
		InputLines lines = new InputLines(this.json, this.models::serves,
				(int) this.proxy.maxRequestSize().toBytes() + 1024, this.properties.maxItems(),
				this.properties.maxLineErrors());
		String id = "file-" + UUID.randomUUID().toString().replace("-", "");
		try (FileStore.Upload upload = this.files.begin(tenant.id(), id); InputStream in = file.getInputStream()) {
			byte[] buffer = new byte[64 * 1024];
			long total = 0;
			int n;
			while ((n = in.read(buffer)) > 0) {
				total += n;
				if (total > limit) {
					throw tooLarge(total, limit);
				}
				lines.accept(buffer, 0, n);
				upload.write(buffer, 0, n);
				// Validating lines is computation, and virtual threads are not preempted:
				// let the requests waiting for this carrier run between 64 KB pieces (the
				// chunk written to Redis, where the thread would block, is 1 MB).
				Thread.yield();
			}
			InputLines.Result result = lines.finish();
			if (!result.valid()) {
				throw BatchException.invalidFile(result);
			}
			return view(upload.commit(filename, purpose, this.clock.instant().getEpochSecond()));
		}
	}

	private static BatchException tooLarge(long size, long limit) {
		return new BatchException(400, "file_too_large", "file", "file: is larger than the limit of " + limit
				+ " bytes (at least " + size + " bytes were sent; tiergate.batch.max-file-size)");
	}

	@GetMapping("/v1/files")
	Map<String, Object> list(@RequestParam(name = "purpose", required = false) String purpose,
			@RequestParam(name = "limit", required = false) Integer limit,
			@RequestParam(name = "order", required = false) String order,
			@RequestParam(name = "after", required = false) String after, @AuthenticationPrincipal Tenant tenant) {
		int max = (limit != null) ? limit : 10_000;
		if (max < 1 || max > 10_000) {
			throw BatchException.invalid("limit", "must be between 1 and 10000 (was " + max + ")");
		}
		if (order != null && !order.equals("asc") && !order.equals("desc")) {
			throw BatchException.invalid("order", "must be asc or desc (was '" + order + "')");
		}
		List<StoredFile> all = new java.util.ArrayList<>(this.files.list(tenant.id()));
		if ("asc".equals(order)) {
			java.util.Collections.reverse(all);
		}
		if (purpose != null) {
			all.removeIf((f) -> !f.purpose().equals(purpose));
		}
		return Pages.page(all, StoredFile::id, after, max, FilesApiController::view);
	}

	@GetMapping("/v1/files/{id}")
	Map<String, Object> retrieve(@PathVariable String id, @AuthenticationPrincipal Tenant tenant) {
		return view(this.files.find(tenant.id(), id).orElseThrow(() -> BatchException.fileNotFound(id)));
	}

	@GetMapping("/v1/files/{id}/content")
	void content(@PathVariable String id, @AuthenticationPrincipal Tenant tenant, HttpServletResponse response)
			throws IOException {
		StoredFile file = this.files.find(tenant.id(), id).orElseThrow(() -> BatchException.fileNotFound(id));
		try (InputStream in = this.files.open(tenant.id(), id).orElseThrow(() -> BatchException.fileNotFound(id))) {
			response.setContentType(MediaType.APPLICATION_OCTET_STREAM_VALUE);
			response.setContentLengthLong(file.bytes());
			OutputStream out = response.getOutputStream();
			in.transferTo(out);
			out.flush();
		}
	}

	@DeleteMapping("/v1/files/{id}")
	Map<String, Object> delete(@PathVariable String id, @AuthenticationPrincipal Tenant tenant) {
		if (!this.files.delete(tenant.id(), id)) {
			throw BatchException.fileNotFound(id);
		}
		Map<String, Object> deleted = new LinkedHashMap<>();
		deleted.put("id", id);
		deleted.put("object", "file");
		deleted.put("deleted", true);
		return deleted;
	}

	/**
	 * OpenAI's file object.
	 * @param file the file
	 * @return its JSON
	 */
	static Map<String, Object> view(StoredFile file) {
		Map<String, Object> view = new LinkedHashMap<>();
		view.put("id", file.id());
		view.put("object", "file");
		view.put("bytes", file.bytes());
		view.put("created_at", file.createdAt());
		view.put("filename", file.filename());
		view.put("purpose", file.purpose());
		view.put("status", "processed");
		view.put("expires_at", null);
		view.put("status_details", null);
		return view;
	}

}
