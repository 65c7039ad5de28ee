#include "policies/quantity.h"

#include <cctype>
#include <cmath>
#include <string>

namespace governor::policies {
namespace {

Status quantityError(std::string_view text, std::string_view why) {
  std::string message = "\"";
  message += text;
  message += "\" is not a quantity: ";
  message += why;
  return invalidArgument(std::move(message));
}

}  // namespace

// The grammar of k8s.io/apimachinery resource.Quantity: <signedNumber><suffix>, where the
// suffix is a binary SI unit (Ki .. Ei), a decimal SI unit (n u m "" k M G T P E) or a
// decimal exponent (e3, E-2).
Result<double> parseQuantity(std::string_view text) {
  if (text.empty()) return quantityError(text, "empty");
  size_t i = 0;
  if (text[i] == '+' || text[i] == '-') ++i;
  bool seen_dot = false;
  bool seen_digit = false;
  while (i < text.size()) {
    char c = text[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      seen_digit = true;
    } else if (c == '.' && !seen_dot) {
      seen_dot = true;
    } else {
      break;
    }
    ++i;
  }
  if (!seen_digit) return quantityError(text, "expected a number");
  double number = std::stod(std::string(text.substr(0, i)));
  std::string_view suffix = text.substr(i);
  double scale = 1;
  if (suffix.empty()) {
    scale = 1;
  } else if (suffix == "n") {
    scale = 1e-9;
  } else if (suffix == "u") {
    scale = 1e-6;
  } else if (suffix == "m") {
    scale = 1e-3;
  } else if (suffix == "k") {
    scale = 1e3;
  } else if (suffix == "M") {
    scale = 1e6;
  } else if (suffix == "G") {
    scale = 1e9;
  } else if (suffix == "T") {
    scale = 1e12;
  } else if (suffix == "P") {
    scale = 1e15;
  } else if (suffix == "E") {
    scale = 1e18;
  } else if (suffix == "Ki") {
    scale = 1024.0;
  } else if (suffix == "Mi") {
    scale = std::pow(1024.0, 2);
  } else if (suffix == "Gi") {
    scale = std::pow(1024.0, 3);
  } else if (suffix == "Ti") {
    scale = std::pow(1024.0, 4);
  } else if (suffix == "Pi") {
    scale = std::pow(1024.0, 5);
  } else if (suffix == "Ei") {
    scale = std::pow(1024.0, 6);
  } else if (suffix[0] == 'e' || suffix[0] == 'E') {
    std::string_view exponent = suffix.substr(1);
    size_t j = 0;
    if (j < exponent.size() && (exponent[j] == '+' || exponent[j] == '-')) ++j;
    if (j == exponent.size()) return quantityError(text, "exponent has no digits");
    for (; j < exponent.size(); ++j) {
      if (!std::isdigit(static_cast<unsigned char>(exponent[j]))) {
        return quantityError(text, "exponent must be an integer");
      }
    }
    if (exponent.size() > 4) return quantityError(text, "exponent out of range");
    scale = std::pow(10.0, std::stoi(std::string(exponent)));
  } else {
    return quantityError(text, "unknown suffix \"" + std::string(suffix) +
                                   "\" (use n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, "
                                   "Ei or an exponent like e3)");
  }
  double value = number * scale;
  if (!std::isfinite(value)) return quantityError(text, "out of range");
  return value;
}

}  // namespace governor::policies
