// What <sluice/sluice.h> gives a user and what it keeps out of their code: the DataStream API,
// without <iostream> or <cxxabi.h> in every file that includes it, and without the graph
// building calls on the environment. (Each header compiling alone is checked by the
// sluice_header_check target in tests/headers/.)
#include <sluice/sluice.h>

// Checked before anything else is included. <iostream> puts a static initialiser into every
// file that includes it; <cxxabi.h> is compiler support, needed only by src/state/type_name.cc.
#if defined(_GLIBCXX_IOSTREAM) || defined(_LIBCPP_IOSTREAM)
#error "<sluice/sluice.h> must not include <iostream>: print from a .cc file"
#endif
#if defined(_CXXABI_H) || defined(__CXXABI_H)
#error "<sluice/sluice.h> must not include <cxxabi.h>: demangle in a .cc file"
#endif

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "unit/api/job_test_support.h"

namespace sluice::apitest {
namespace {

// The environment builds its graph through a private detail::GraphBuilder: a user cannot add
// transformations, take ids or bypass the DataStream calls.
template <typename Env>
concept ExposesGraphBuilding = requires(Env& env) { env.NextId(); } ||
                               requires(Env& env, std::unique_ptr<detail::Transformation> node) {
                                 env.Add(std::move(node));
                               } || requires(const Env& env) { env.max_parallelism(); };
static_assert(!ExposesGraphBuilding<StreamExecutionEnvironment>);
static_assert(!std::is_base_of_v<detail::GraphBuilder, StreamExecutionEnvironment>);
static_assert(!std::is_convertible_v<StreamExecutionEnvironment*, detail::GraphBuilder*>);

TEST(PublicHeadersTest, TheUmbrellaHeaderIsEnoughForAKeyedJob) {
  Collected<int64_t> out;
  auto env = TestEnv(2);
  env->SetMaxParallelism(16);
  env->GenerateSequence(1, 100)
      .KeyBy([](int64_t n) { return n % 2; })
      .Reduce([](int64_t a, int64_t b) { return a + b; })
      .AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("public-headers");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(env->GetMaxParallelism(), 16);
  std::vector<int64_t> sums = out.Sorted();
  ASSERT_FALSE(sums.empty());
  // The last running sums: 2 + 4 + ... + 100 and 1 + 3 + ... + 99.
  EXPECT_EQ(sums.back(), 2550);
  EXPECT_NE(std::find(sums.begin(), sums.end(), 2500), sums.end());
}

}  // namespace
}  // namespace sluice::apitest
