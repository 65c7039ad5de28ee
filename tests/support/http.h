#pragma once

// A minimal HTTP/1.1 client for tests of Governor's own servers (/metrics, the probes): one
// request on a fresh connection, read until the server closes it.

#include <cstdint>
#include <optional>
#include <string>

namespace governor::testing {

struct HttpResponse {
  int status = 0;
  std::string body;
};

// Sends `method path` to host:port (an IPv4 literal) with Connection: close and reads the
// answer (at most 10 s per read). nullopt when it cannot connect or the answer is not HTTP.
std::optional<HttpResponse> httpRequest(const std::string& host, uint16_t port,
                                        const std::string& method, const std::string& path);

}  // namespace governor::testing
