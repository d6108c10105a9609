package dev.tiergate.web;

import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;

/**
 * The operator sign-in page.
 */
@Controller
class LoginPageController {

	@GetMapping("/login")
	String login() {
		return "login";
	}

}
