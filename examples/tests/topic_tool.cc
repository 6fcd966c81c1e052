// topic_tool: creates or deletes a topic on the test broker, for the examples' ctest driver
// (the broker does not create topics by itself). Uses the integration tests' helpers, so it
// honours SLUICE_BOOTSTRAP_SERVERS the same way.
//
// usage: topic_tool create NAME PARTITIONS | topic_tool delete NAME
#include <cstdio>
#include <exception>
#include <string>

#include "kafka_test_env.h"

int main(int argc, char** argv) {
  try {
    std::string command = argc > 1 ? argv[1] : "";
    if (command == "create" && argc == 4) {
      sluice::testing::CreateTopic(argv[2], std::stoi(argv[3]));
      return 0;
    }
    if (command == "delete" && argc == 3) {
      sluice::testing::DeleteTopic(argv[2]);
      return 0;
    }
    std::fprintf(stderr, "usage: %s create NAME PARTITIONS | %s delete NAME\n", argv[0], argv[0]);
    return 2;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s: %s\n", argv[0], error.what());
    return 1;
  }
}
