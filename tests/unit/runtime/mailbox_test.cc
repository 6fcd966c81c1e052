#include "runtime/mailbox.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace sluice::internal {
namespace {

TEST(MailboxTest, RunsMailPutFromAnotherThreadInOrderOnTheMailboxThread) {
  detail::Notifier notifier;
  Mailbox mailbox(&notifier);
  mailbox.BindToCurrentThread();
  std::vector<int> ran;
  std::vector<std::thread::id> ran_on;
  std::thread producer([&] {
    for (int i = 0; i < 3; ++i) {
      mailbox.Put([&, i] {
        ran.push_back(i);
        ran_on.push_back(std::this_thread::get_id());
      });
    }
  });
  producer.join();
  // Put woke the mailbox thread's notifier: no wait needed.
  EXPECT_TRUE(notifier.WaitUntil(std::chrono::steady_clock::now()));
  ASSERT_TRUE(mailbox.HasMail());
  mailbox.RunAll();
  EXPECT_FALSE(mailbox.HasMail());
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2}));
  for (std::thread::id id : ran_on) EXPECT_EQ(id, std::this_thread::get_id());
}

TEST(MailboxTest, RunsMailThatMailQueuesInTheSameRun) {
  detail::Notifier notifier;
  Mailbox mailbox(&notifier);
  mailbox.BindToCurrentThread();
  std::vector<int> ran;
  mailbox.Put([&] {
    ran.push_back(1);
    mailbox.Put([&] { ran.push_back(2); });
  });
  mailbox.RunAll();
  EXPECT_EQ(ran, (std::vector<int>{1, 2}));
}

TEST(MailboxTest, OnlyTheBoundThreadIsTheMailboxThread) {
  detail::Notifier notifier;
  Mailbox mailbox(&notifier);
  EXPECT_FALSE(mailbox.IsMailboxThread());
  mailbox.BindToCurrentThread();
  EXPECT_TRUE(mailbox.IsMailboxThread());
  bool elsewhere = true;
  std::thread other([&] { elsewhere = mailbox.IsMailboxThread(); });
  other.join();
  EXPECT_FALSE(elsewhere);
}

#ifndef NDEBUG
TEST(MailboxDeathTest, RunningMailOffTheMailboxThreadAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  detail::Notifier notifier;
  Mailbox mailbox(&notifier);
  std::thread task([&] { mailbox.BindToCurrentThread(); });
  task.join();
  mailbox.Put([] {});
  EXPECT_DEATH(mailbox.RunAll(), "Mailbox::RunAll off the task thread");
  EXPECT_DEATH((void)mailbox.HasMail(), "Mailbox::HasMail off the task thread");
}
#else
TEST(MailboxDeathTest, RunningMailOffTheMailboxThreadAborts) {
  GTEST_SKIP() << "the thread check is compiled into debug builds only (scripts/test runs "
                  "them in the ASan+UBSan pass)";
}
#endif

}  // namespace
}  // namespace sluice::internal
