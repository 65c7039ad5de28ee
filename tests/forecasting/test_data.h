#pragma once

// Reads the reference data copied into tests/data/r-holtwinters/ (see its README).

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace governor::forecasting::testing {

inline std::string testDataPath(const std::string& name) {
  return std::string(GOVERNOR_TEST_DATA) + "/r-holtwinters/" + name;
}

// The numeric column `column` (0-based) of a CSV file with one header line.
inline std::vector<double> readCsvColumn(const std::string& name, int column) {
  std::ifstream in(testDataPath(name));
  std::vector<double> out;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    std::string field;
    for (int i = 0; i <= column && std::getline(fields, field, ','); ++i) {
    }
    out.push_back(std::stod(field));
  }
  return out;
}

inline std::vector<double> dataset(const std::string& name) {
  return readCsvColumn(name + ".csv", 1);
}

inline nlohmann::json referenceFits() {
  std::ifstream in(testDataPath("reference.json"));
  return nlohmann::json::parse(in)["fits"];
}

}  // namespace governor::forecasting::testing
