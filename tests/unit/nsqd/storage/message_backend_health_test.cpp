// MessageBackend's disk health: a failed write or sync turns /ping NOK with the reason, and
// the next good write or sync turns it OK again (the reference's SetHealth).
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <memory>
#include <string>

#include "common/disk/forwarding_file_ops.hpp"
#include "nsqd/queue/message.hpp"
#include "nsqd/storage/message_backend.hpp"
#include "support/temp_dir.hpp"

namespace nsq::nsqd {
namespace {

// fsync fails with EIO while `failing` is set.
class FlakyFsync : public disk::ForwardingFileOps {
 public:
  int fsync(int fd) override {
    if (failing.load()) return -EIO;  // FileOps calls return -errno
    return inner().fsync(fd);
  }
  std::atomic<bool> failing{false};
};

class MessageBackendHealthTest : public ::testing::Test {
 protected:
  std::shared_ptr<MessageBackend> open() {
    auto ctx = std::make_shared<DiskContext>();
    ctx->data_path = dir_.path();
    ctx->queue_options.sync_every = 1;  // every write syncs, inline (no worker)
    ctx->queue_options.file_ops = &ops_;
    ctx->report_health = [this](const std::string& e) { health_ = e; };
    auto b = MessageBackend::open("t", ctx);
    EXPECT_TRUE(b.ok());
    return b.ok() ? *b : nullptr;
  }
  std::string write(MessageBackend& b, const std::string& body) {
    MessageId id{};
    id.fill('0');
    auto m = Message::create(id, 1, body);
    const MessageBackend::Outgoing out{m.get(), 1, 0};
    return b.write({&out, 1});
  }

  test_support::TempDir dir_;
  FlakyFsync ops_;
  std::string health_ = "unset";
};

TEST_F(MessageBackendHealthTest, AGoodSyncClearsTheHealthAFailedSyncSet) {
  auto b = open();
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(write(*b, "before"), "");
  EXPECT_EQ(health_, "unset");  // healthy all along: nothing reported

  ops_.failing = true;
  ASSERT_EQ(write(*b, "during"), "");  // the write itself is fine; its sync fails
  EXPECT_NE(health_.find("input/output error"), std::string::npos) << health_;

  // The fault clears; the retried sync succeeds and nothing else is written: /ping must not
  // stay NOK (it did: only a good write cleared it).
  ops_.failing = false;
  b->sync_if_dirty();
  EXPECT_EQ(health_, "");
}

}  // namespace
}  // namespace nsq::nsqd
