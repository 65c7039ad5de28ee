#include "controller/prometheus/endpoint.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace governor::controller::prom {
namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// RFC 9110 token characters: what an HTTP header name may contain.
bool isTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

Status urlError(const std::string& what) { return invalidArgument("url: " + what); }

}  // namespace

Status validateEndpoint(const PrometheusEndpoint& endpoint) {
  const std::string_view url = endpoint.url;
  if (url.empty()) return urlError("required");
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else {
    // The URL is not a credential (user info is refused below), but it may be mistyped
    // garbage; quoting its scheme is enough to recognize it.
    return urlError("must start with http:// or https://");
  }
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty()) return urlError("no host");
  if (authority.find('@') != std::string_view::npos) {
    // Never echo the URL here: the user info is a password.
    return urlError(
        "must not carry user info (user:password@); use basic_auth_username and "
        "basic_auth_password_file");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return urlError("must not have a query or fragment");
  }
  if (endpoint.timeout <= Duration::zero()) return invalidArgument("timeout: must be positive");
  const bool basic = !endpoint.basic_auth_username.empty();
  if (basic != !endpoint.basic_auth_password_file.empty()) {
    return invalidArgument("basic_auth_username and basic_auth_password_file: set both or neither");
  }
  if (basic && !endpoint.bearer_token_file.empty()) {
    return invalidArgument("bearer_token_file: cannot be combined with basic auth");
  }
  for (const auto& [name, value] : endpoint.headers) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), isTokenChar)) {
      return invalidArgument("headers: \"" + name + "\" is not a valid header name");
    }
    if (equalsIgnoreCase(name, "Authorization")) {
      return invalidArgument(
          "headers: Authorization is not accepted here; use bearer_token_file or basic auth, "
          "which read credentials from files");
    }
    if (value.find_first_of("\r\n") != std::string::npos || value.find('\0') != std::string::npos) {
      return invalidArgument("headers." + name + ": value must not contain CR, LF or NUL");
    }
  }
  return Status();
}

}  // namespace governor::controller::prom
