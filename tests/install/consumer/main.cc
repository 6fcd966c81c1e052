#include <sluice/sluice.h>

#include <cstdio>

int main() {
  sluice::Result<int> answer = 42;
  if (!answer.ok()) return 1;
  std::printf("sluice %s with librdkafka %s\n", sluice::VersionString(), sluice::RdKafkaVersionString());
  return 0;
}
