// ProtocolV2 without a socket: every command through a fake ClientPort, against a real Nsqd,
// Topic and Channel. The connection-side behaviour (buffers, timers, TLS) is covered by the
// system tests with real clients.
#include "nsqd/tcp/protocol_v2.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "nsq/protocol/wire.hpp"
#include "support/temp_dir.hpp"

namespace nsq::nsqd {
namespace {

using protocol::ClientState;
using protocol::ProtocolError;

std::string size_prefixed(std::string_view body) {
  std::string out(4, '\0');
  const auto n = static_cast<uint32_t>(body.size());
  out[0] = static_cast<char>(n >> 24);
  out[1] = static_cast<char>(n >> 16);
  out[2] = static_cast<char>(n >> 8);
  out[3] = static_cast<char>(n);
  out.append(body);
  return out;
}

std::string pub(std::string_view topic, std::string_view body) {
  return "PUB " + std::string(topic) + "\n" + size_prefixed(body);
}

// A subscribed consumer as the channel sees it: its readiness comes from the session.
class SessionConsumer : public Consumer {
 public:
  ProtocolV2* session = nullptr;
  std::vector<MessagePtr> delivered;

  int64_t consumer_id() const override { return 1; }
  bool ready_for_message() const override { return session->ready_for_message(); }
  int64_t ready_capacity() const override { return session->ready_capacity(); }
  int64_t msg_timeout_ns() const override { return session->msg_timeout_ns(); }
  int32_t sample_rate() const override { return session->sample_rate(); }
  void deliver(const MessagePtr& msg, uint16_t) override {
    session->on_delivered();
    delivered.push_back(msg);
  }
  void message_done(Outcome outcome) override { session->message_done(outcome); }
  void in_flight_reset() override { session->in_flight_reset(); }
};

class FakePort : public ClientPort {
 public:
  std::vector<std::string> responses;
  std::vector<ProtocolError> errors;
  bool closing = false;       // close_after_flush() was called
  std::string closed_reason;  // close() was called
  bool backlogged = false;    // pretend the output backlog is full
  int commands_done = 0;
  int heartbeat_changes = 0;
  std::optional<NegotiatedFeatures> upgrade;
  std::string auth_secret;
  AuthDone auth_done;  // a pending auth query, completed by the test
  std::shared_ptr<SessionConsumer> consumer_ = std::make_shared<SessionConsumer>();
  std::string address = "127.0.0.1:5555";

  void send_response(std::string_view data) override { responses.emplace_back(data); }
  void send_error(const ProtocolError& err) override { errors.push_back(err); }
  void close_after_flush() override { closing = true; }
  void close(const std::string& reason) override { closed_reason = reason; }
  bool input_open() override {
    return !closing && closed_reason.empty() && !backlogged && !upgrade && !auth_done;
  }
  bool tls_active() const override { return false; }
  std::shared_ptr<Consumer> consumer() override { return consumer_; }
  void command_done() override { ++commands_done; }
  void heartbeat_changed() override { ++heartbeat_changes; }
  void start_upgrade(const NegotiatedFeatures& f) override { upgrade = f; }
  void query_auth(std::string secret, AuthDone done) override {
    auth_secret = std::move(secret);
    auth_done = std::move(done);
  }
  const std::string& remote_address() const override { return address; }
};

class ProtocolV2Test : public ::testing::Test {
 protected:
  explicit ProtocolV2Test(NsqdOptions opts = {}) : nsqd_(with_data_path(std::move(opts))) {
    port_.consumer_->session = &session_;
  }

  NsqdOptions with_data_path(NsqdOptions opts) {
    opts.data_path = data_.path();
    return opts;
  }

  // Feeds `input` as one read; returns the bytes taken.
  size_t feed(std::string_view input) { return session_.consume(input).consumed; }

  int64_t topic_depth(const std::string& name) {
    auto t = nsqd_.find_topic(name);
    return t ? t->stats().depth : -1;
  }

  test_support::TempDir data_;
  Nsqd nsqd_;
  FakePort port_;
  ProtocolV2 session_{nsqd_, port_, 1, "127.0.0.1"};
};

TEST_F(ProtocolV2Test, PubAnswersOkAndQueuesTheMessage) {
  const std::string in = pub("orders", "hello");
  EXPECT_EQ(feed(in), in.size());
  EXPECT_EQ(port_.responses, std::vector<std::string>{"OK"});
  EXPECT_TRUE(port_.errors.empty());
  EXPECT_EQ(topic_depth("orders"), 1);
  EXPECT_EQ(port_.commands_done, 1);
  ClientStats s;
  session_.fill_stats(s);
  EXPECT_EQ(s.pub_counts.at("orders"), 1u);
  EXPECT_EQ(s.client_id, "127.0.0.1");  // the address names the client until IDENTIFY
}

TEST_F(ProtocolV2Test, MpubCountsEveryBody) {
  std::string bodies = std::string("\0\0\0\x02", 4) + size_prefixed("a") + size_prefixed("bc");
  const std::string in = "MPUB t\n" + size_prefixed(bodies);
  EXPECT_EQ(feed(in), in.size());
  EXPECT_EQ(port_.responses, std::vector<std::string>{"OK"});
  EXPECT_EQ(topic_depth("t"), 2);
}

TEST_F(ProtocolV2Test, AHalfFrameIsLeftUnconsumedWithItsSize) {
  const std::string in = pub("t", std::string(100, 'x'));
  const auto r = session_.consume(std::string_view(in).substr(0, 20));
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_EQ(r.need_total, in.size());
  EXPECT_TRUE(port_.responses.empty());
  // EOF now would report the reference's "failed to read" error.
  ASSERT_TRUE(session_.pending_eof_error().has_value());
  EXPECT_EQ(feed(in), in.size());
  EXPECT_FALSE(session_.pending_eof_error().has_value());
  EXPECT_EQ(port_.responses, std::vector<std::string>{"OK"});
}

// The same commands fed in pieces at every byte boundary answer exactly as one read does.
TEST_F(ProtocolV2Test, EverySplitOfTheInputAnswersTheSame) {
  const std::string in = pub("t", "one") + "NOP\n" + pub("t", "two") + "IDENTIFY\n" +
                         size_prefixed(R"({"client_id":"c1"})") + pub("t", "3");
  for (size_t split = 0; split <= in.size(); ++split) {
    test_support::TempDir data;
    NsqdOptions opts;
    opts.data_path = data.path();
    Nsqd nsqd(opts);
    FakePort port;
    ProtocolV2 session(nsqd, port, 1, "127.0.0.1");
    const size_t first = session.consume(std::string_view(in).substr(0, split)).consumed;
    const size_t second = session.consume(std::string_view(in).substr(first)).consumed;
    EXPECT_EQ(first + second, in.size()) << "split at " << split;
    EXPECT_EQ(port.responses, (std::vector<std::string>{"OK", "OK", "OK", "OK"}))
        << "split at " << split;
    EXPECT_TRUE(port.errors.empty()) << "split at " << split;
    EXPECT_EQ(nsqd.find_topic("t")->stats().depth, 3) << "split at " << split;
  }
}

TEST_F(ProtocolV2Test, SubRdyDeliversAndFinCountsTheFinish) {
  ASSERT_EQ(feed(pub("t", "m1") + pub("t", "m2")), pub("t", "m1").size() * 2);
  feed("SUB t c\n");
  EXPECT_EQ(session_.state(), ClientState::kSubscribed);
  EXPECT_TRUE(port_.consumer_->delivered.empty());  // RDY 0: nothing yet
  feed("RDY 1\n");
  ASSERT_EQ(port_.consumer_->delivered.size(), 1u);  // the in-flight window is one
  const auto id = port_.consumer_->delivered[0]->id();
  feed("FIN " + std::string(protocol::id_view(id)) + "\n");
  ASSERT_EQ(port_.consumer_->delivered.size(), 2u);  // the FIN freed the window
  ClientStats s;
  session_.fill_stats(s);
  EXPECT_EQ(s.finish_count, 1u);
  EXPECT_EQ(s.message_count, 2u);
  EXPECT_EQ(s.in_flight_count, 1);
  EXPECT_EQ(s.ready_count, 1);
  EXPECT_TRUE(port_.errors.empty());
}

TEST_F(ProtocolV2Test, FinOfAnUnknownIdIsAnErrorThatKeepsTheConnection) {
  feed("SUB t c\n");
  const std::string id(16, '0');
  const std::string in = "FIN " + id + "\nNOP\n" + pub("t", "x");
  EXPECT_EQ(feed(in), in.size());
  ASSERT_EQ(port_.errors.size(), 1u);
  EXPECT_EQ(port_.errors[0].text(), "E_FIN_FAILED FIN " + id + " failed ID not in flight");
  EXPECT_FALSE(port_.errors[0].fatal);
  EXPECT_FALSE(port_.closing);
  EXPECT_EQ(port_.responses, (std::vector<std::string>{"OK", "OK"}));  // SUB, PUB
}

TEST_F(ProtocolV2Test, AFatalErrorClosesAndStopsTakingCommands) {
  const std::string bad = "BOGUS\n";
  const std::string in = bad + pub("t", "never");
  EXPECT_EQ(feed(in), bad.size());
  ASSERT_EQ(port_.errors.size(), 1u);
  EXPECT_TRUE(port_.errors[0].fatal);
  EXPECT_EQ(port_.errors[0].code, "E_INVALID");
  EXPECT_TRUE(port_.closing);
  EXPECT_EQ(topic_depth("t"), -1);  // the PUB after it never ran
}

TEST_F(ProtocolV2Test, AFullOutputBacklogStopsInputBeforeTheNextCommand) {
  port_.backlogged = true;
  EXPECT_EQ(feed(pub("t", "x")), 0u);
  port_.backlogged = false;
  EXPECT_EQ(feed(pub("t", "x")), pub("t", "x").size());
  EXPECT_EQ(port_.responses, std::vector<std::string>{"OK"});
}

TEST_F(ProtocolV2Test, IdentifyNegotiatesAndAsksForTheUpgrade) {
  const std::string body =
      R"({"client_id":"c1","hostname":"h1","user_agent":"ua","heartbeat_interval":5000,)"
      R"("feature_negotiation":true,"snappy":true})";
  const std::string in = "IDENTIFY\n" + size_prefixed(body) + "NOP\n";
  // The upgrade closes input: the NOP after IDENTIFY waits for it.
  EXPECT_EQ(feed(in), in.size() - 4);
  ASSERT_EQ(port_.responses.size(), 1u);
  EXPECT_NE(port_.responses[0].find("\"snappy\":true"), std::string::npos) << port_.responses[0];
  EXPECT_NE(port_.responses[0].find("\"max_rdy_count\":2500"), std::string::npos);
  ASSERT_TRUE(port_.upgrade.has_value());
  EXPECT_TRUE(port_.upgrade->snappy);
  EXPECT_EQ(port_.heartbeat_changes, 1);
  EXPECT_EQ(session_.settings().heartbeat_interval_ns, 5'000'000'000);
  ClientStats s;
  session_.fill_stats(s);
  EXPECT_EQ(s.client_id, "c1");
  EXPECT_EQ(s.hostname, "h1");
  EXPECT_EQ(s.user_agent, "ua");
}

TEST_F(ProtocolV2Test, IdentifyWithABadBodyIsFatal) {
  feed("IDENTIFY\n" + size_prefixed("{not json"));
  ASSERT_EQ(port_.errors.size(), 1u);
  EXPECT_EQ(port_.errors[0].text(), "E_BAD_BODY IDENTIFY failed to decode JSON body");
  EXPECT_TRUE(port_.closing);
}

TEST_F(ProtocolV2Test, ClsAnswersCloseWaitAndIgnoresLaterRdy) {
  feed("SUB t c\nCLS\n");
  EXPECT_EQ(port_.responses, (std::vector<std::string>{"OK", "CLOSE_WAIT"}));
  EXPECT_EQ(session_.state(), ClientState::kClosing);
  feed("RDY 5\n");
  EXPECT_EQ(session_.ready_capacity(), 0);
}

TEST_F(ProtocolV2Test, AuthWhenDisabledIsFatal) {
  feed("AUTH\n" + size_prefixed("secret"));
  ASSERT_EQ(port_.errors.size(), 1u);
  EXPECT_EQ(port_.errors[0].text(), "E_AUTH_DISABLED AUTH disabled");
  EXPECT_TRUE(port_.closing);
}

TEST_F(ProtocolV2Test, DetachLeavesTheChannel) {
  feed("SUB t c\n");
  auto channel = nsqd_.find_topic("t")->get_channel("c");
  EXPECT_EQ(channel->stats().client_count, 1u);
  session_.detach();
  EXPECT_EQ(channel->stats().client_count, 0u);
  EXPECT_EQ(session_.state(), ClientState::kClosing);
}

class ProtocolV2AuthTest : public ProtocolV2Test {
 protected:
  ProtocolV2AuthTest() : ProtocolV2Test(auth_options()) {}

  static NsqdOptions auth_options() {
    NsqdOptions o;
    o.auth_http_addresses = {"127.0.0.1:1"};  // never dialled: the fake port answers
    return o;
  }

  static AuthState grants_publish_on(const std::string& topic) {
    auto state =
        parse_auth_response(R"({"ttl":3600,"identity":"alice","authorizations":[{"topic":"^)" +
                                topic + R"($","channels":[".*"],"permissions":["publish"]}]})",
                            std::chrono::steady_clock::now());
    EXPECT_TRUE(state) << state.error();
    return *state;
  }
};

TEST_F(ProtocolV2AuthTest, PublishBeforeAuthIsRefused) {
  feed(pub("t", "x"));
  ASSERT_EQ(port_.errors.size(), 1u);
  EXPECT_EQ(port_.errors[0].text(), "E_AUTH_FIRST AUTH required before PUB");
  EXPECT_TRUE(port_.closing);
  EXPECT_EQ(topic_depth("t"), -1);
}

TEST_F(ProtocolV2AuthTest, AuthQueriesThePortThenGrantsDecidePublishes) {
  const std::string auth = "AUTH\n" + size_prefixed("s3cret");
  const std::string in = auth + pub("allowed", "x");
  // Input closes while the query runs: the PUB waits.
  EXPECT_EQ(feed(in), auth.size());
  EXPECT_EQ(port_.auth_secret, "s3cret");
  ASSERT_TRUE(port_.auth_done);
  auto done = std::move(port_.auth_done);
  port_.auth_done = nullptr;
  done(grants_publish_on("allowed"), "");
  ASSERT_EQ(port_.responses.size(), 1u);
  EXPECT_EQ(port_.responses[0], R"({"identity":"alice","identity_url":"","permission_count":1})");
  EXPECT_EQ(feed(std::string_view(in).substr(auth.size())), in.size() - auth.size());
  EXPECT_EQ(topic_depth("allowed"), 1);
  ClientStats s;
  session_.fill_stats(s);
  EXPECT_TRUE(s.authed);
  EXPECT_EQ(s.auth_identity, "alice");

  feed(pub("other", "x"));
  ASSERT_EQ(port_.errors.size(), 1u);
  EXPECT_EQ(port_.errors[0].text(), R"(E_UNAUTHORIZED AUTH failed for PUB on "other" "")");
  EXPECT_TRUE(port_.closing);
}

TEST_F(ProtocolV2AuthTest, AFailedQueryIsEAuthFailed) {
  feed("AUTH\n" + size_prefixed("s3cret"));
  auto done = std::move(port_.auth_done);
  port_.auth_done = nullptr;
  done(std::nullopt, "connection refused");
  ASSERT_EQ(port_.errors.size(), 1u);
  EXPECT_EQ(port_.errors[0].text(), "E_AUTH_FAILED AUTH failed");  // the reason is only logged
  EXPECT_TRUE(port_.closing);
}

}  // namespace
}  // namespace nsq::nsqd
