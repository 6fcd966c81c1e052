# Every dependency comes from a Debian package (scripts/setup); see docs/dependencies.md.
find_package(Threads REQUIRED)
if(SLUICE_WITH_KAFKA)
  # Only the Kafka connector, the `sluice` command and the Kafka examples, tests and benchmarks
  # use librdkafka; with SLUICE_WITH_KAFKA=OFF it is not even looked for.
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(RdKafka REQUIRED IMPORTED_TARGET GLOBAL rdkafka>=2.0.2)
endif()
find_package(fmt REQUIRED CONFIG)
find_package(spdlog REQUIRED CONFIG)
find_package(nlohmann_json 3.11 REQUIRED CONFIG)
find_package(CLI11 REQUIRED CONFIG)
if(SLUICE_BUILD_TESTS)
  find_package(GTest REQUIRED CONFIG)
endif()
if(SLUICE_BUILD_BENCH)
  find_package(benchmark REQUIRED CONFIG)
endif()
