// Partition discovery's broker side: a background thread that asks for the cluster's topic
// metadata every discovery interval and leaves the newest answer for the reader's task
// thread, which decides what is new and assigns it (assignment changes stay on the polling
// thread: librdkafka 2.0.2 must not assign while a batch consume runs elsewhere).
//
// Threads: the constructor, Take and the destructor run on the task thread; Loop runs on the
// discovery thread and only calls rd_kafka_metadata (thread-safe) and the wake-up.
// Lifecycle: destroy it before the consumer it asks through; the destructor stops and joins
// the thread, which waits at most one metadata timeout.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace sluice::kafka::internal {

class PartitionDiscovery {
 public:
  /// Starts asking at once after `interval`, then every `interval`; each lookup waits at
  /// most `timeout`. `wake` is called (on the discovery thread) when an answer is ready.
  PartitionDiscovery(rd_kafka_t* rk, std::chrono::milliseconds interval,
                     std::chrono::milliseconds timeout, std::function<void()> wake);
  ~PartitionDiscovery();
  PartitionDiscovery(const PartitionDiscovery&) = delete;
  PartitionDiscovery& operator=(const PartitionDiscovery&) = delete;

  /// The newest answer not taken yet: topic -> partition count.
  std::optional<std::map<std::string, int>> Take();

 private:
  void Loop();

  rd_kafka_t* rk_;
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds timeout_;
  std::function<void()> wake_;
  std::mutex mutex_;
  std::condition_variable stop_changed_;
  bool stop_ = false;
  std::optional<std::map<std::string, int>> result_;
  std::thread thread_;  // last: started when everything above exists
};

}  // namespace sluice::kafka::internal
