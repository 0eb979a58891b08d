// FlagSet against the reference's observable behaviour (Go `flag` + go-options; expected texts
// were taken from /work/refbin/nsqd).
#include "common/config/flag_set.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <regex>
#include <string>
#include <vector>

namespace nsq::config {
namespace {

using namespace std::chrono_literals;
using Action = ParseResult::Action;

// What one parse() printed and returned.
struct Outcome {
  ParseResult result;
  std::string out;
  std::string err;
  bool exited(int code) const { return result.action == Action::kExit && result.exit_code == code; }
  bool ran() const { return result.action == Action::kRun; }
};

Outcome run(FlagSet& flags, std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"prog"};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  Outcome r;
  r.result = flags.parse(static_cast<int>(argv.size()), argv.data());
  r.err = testing::internal::GetCapturedStderr();
  r.out = testing::internal::GetCapturedStdout();
  return r;
}

// A small nsqd-like flag set.
struct Options {
  std::string config;
  bool version = false;
  std::string tcp_address = "0.0.0.0:4150";
  std::string data_path;
  int64_t mem_queue_size = 10000;
  int64_t node_id = 617;
  Duration msg_timeout = 60s;
  Duration sync_timeout = 2s;
  bool deflate = true;
  bool verbose = false;
  std::vector<std::string> lookupd;
  std::vector<double> percentiles;
  std::string tls_required = "false";
  std::string log_level = "info";
};

class FlagSetTest : public testing::Test {
 protected:
  FlagSetTest() : flags_("nsqd") {
    flags_.add_string("config", &o_.config, "path to config file", "-");
    flags_.add_bool("version", &o_.version, "print version string", "-");
    flags_.add_string("tcp-address", &o_.tcp_address, "address to listen on for TCP clients");
    flags_.add_string("data-path", &o_.data_path, "path to store disk-backed messages");
    flags_.add_int("mem-queue-size", &o_.mem_queue_size, "number of messages to keep in memory");
    flags_.add_int("node-id", &o_.node_id, "unique part for message IDs", "id");
    flags_.add_duration("msg-timeout", &o_.msg_timeout, "default duration to wait");
    flags_.add_duration("sync-timeout", &o_.sync_timeout, "duration of time per fsync");
    flags_.add_bool("deflate", &o_.deflate, "enable deflate feature negotiation");
    flags_.add_bool("verbose", &o_.verbose, "[deprecated] has no effect", "-");
    flags_.add_string_list("lookupd-tcp-address", &o_.lookupd, "lookupd TCP address",
                           "nsqlookupd_tcp_addresses");
    flags_.add_float_list("e2e-processing-latency-percentile", &o_.percentiles,
                          "message processing time percentiles",
                          "e2e_processing_latency_percentiles");
    flags_.add_bool_string("tls-required", &o_.tls_required, "require TLS for client connections",
                           "", [](std::string_view v, std::string& reason) {
                             bool ignored = false;
                             gocompat::GoParseError error;
                             if (v == "tcp-https" || gocompat::parse_go_bool(v, ignored, &error))
                               return true;
                             reason = error.text;
                             return false;
                           });
    flags_.add_value(
        "log-level",
        [this](std::string_view v, std::string& reason) {
          if (v == "debug" || v == "info" || v == "warn" || v == "error" || v == "fatal") {
            o_.log_level = v;
            return true;
          }
          reason = "invalid log level '" + std::string(v) + "'";
          return false;
        },
        "INFO", "set log verbosity");
  }

  // Writes a config file in the test's temp dir and returns its path.
  std::string write_config(const std::string& text) {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    std::string path = testing::TempDir() + "flag_set_" + info->name() + ".toml";
    std::ofstream(path) << text;
    created_.push_back(path);
    return path;
  }

  ~FlagSetTest() override {
    for (const auto& path : created_) std::remove(path.c_str());
  }

  Options o_;
  FlagSet flags_;
  std::vector<std::string> created_;
};

// ---- spellings -------------------------------------------------------------------------------

TEST_F(FlagSetTest, DefaultsAreKeptWhenNothingIsGiven) {
  Outcome r = run(flags_, {});
  EXPECT_TRUE(r.ran());
  EXPECT_EQ(o_.mem_queue_size, 10000);
  EXPECT_EQ(o_.msg_timeout, 60s);
  EXPECT_TRUE(o_.deflate);
  EXPECT_EQ(r.err, "");
  EXPECT_FALSE(flags_.was_set("mem-queue-size"));
}

TEST_F(FlagSetTest, AllValueSpellings) {
  Outcome r = run(flags_, {"-mem-queue-size=1", "--tcp-address=a:1", "-msg-timeout", "5s",
                           "--data-path", "/d"});
  ASSERT_TRUE(r.ran()) << r.err;
  EXPECT_EQ(o_.mem_queue_size, 1);
  EXPECT_EQ(o_.tcp_address, "a:1");
  EXPECT_EQ(o_.msg_timeout, 5s);
  EXPECT_EQ(o_.data_path, "/d");
  EXPECT_TRUE(flags_.was_set("mem-queue-size"));
  EXPECT_TRUE(flags_.was_set("data-path"));
  EXPECT_FALSE(flags_.was_set("node-id"));
  EXPECT_FALSE(flags_.was_set("no-such-flag"));
}

TEST_F(FlagSetTest, GoIntegerAndDurationSyntax) {
  ASSERT_TRUE(run(flags_, {"-mem-queue-size=0x10", "-node-id", "010", "-msg-timeout=1h30m"}).ran());
  EXPECT_EQ(o_.mem_queue_size, 16);
  EXPECT_EQ(o_.node_id, 8);
  EXPECT_EQ(o_.msg_timeout, 90min);
}

TEST_F(FlagSetTest, ValueIsTheNextWordEvenWhenItLooksLikeAFlag) {
  ASSERT_TRUE(run(flags_, {"-data-path", "-deflate=false", "-mem-queue-size", "-5"}).ran());
  EXPECT_EQ(o_.data_path, "-deflate=false");
  EXPECT_TRUE(o_.deflate);
  EXPECT_EQ(o_.mem_queue_size, -5);
}

TEST_F(FlagSetTest, EmptyValues) {
  o_.data_path = "x";
  ASSERT_TRUE(run(flags_, {"-tcp-address=", "-data-path", ""}).ran());
  EXPECT_EQ(o_.tcp_address, "");
  EXPECT_EQ(o_.data_path, "");
  EXPECT_TRUE(flags_.was_set("tcp-address"));
}

TEST_F(FlagSetTest, ValuesKeepEqualsSignsAndBrackets) {
  ASSERT_TRUE(run(flags_, {"-data-path=a=b", "-tcp-address", "[a,b]"}).ran());
  EXPECT_EQ(o_.data_path, "a=b");
  EXPECT_EQ(o_.tcp_address, "[a,b]");
}

TEST_F(FlagSetTest, BoolSpellings) {
  ASSERT_TRUE(run(flags_, {"-deflate=false", "--verbose"}).ran());
  EXPECT_FALSE(o_.deflate);
  EXPECT_TRUE(o_.verbose);
  ASSERT_TRUE(run(flags_, {"--deflate", "-verbose=0"}).ran());
  EXPECT_TRUE(o_.deflate);
  EXPECT_FALSE(o_.verbose);
  ASSERT_TRUE(run(flags_, {"-deflate=F", "-verbose=TRUE"}).ran());
  EXPECT_FALSE(o_.deflate);
  EXPECT_TRUE(o_.verbose);
}

TEST_F(FlagSetTest, BoolDoesNotConsumeFalseWhichEndsParsing) {
  Outcome r = run(flags_, {"-deflate", "false", "-mem-queue-size=5", "-unknown"});
  ASSERT_TRUE(r.ran()) << r.err;
  EXPECT_TRUE(o_.deflate);
  EXPECT_EQ(o_.mem_queue_size, 10000);
  EXPECT_EQ(r.err, "");
}

TEST_F(FlagSetTest, StopsAtFirstNonFlagAndIgnoresTheRest) {
  for (const char* stop : {"word", "-", "--"}) {
    Outcome r = run(flags_, {"-mem-queue-size=7", stop, "-mem-queue-size=8", "-nonsense"});
    ASSERT_TRUE(r.ran()) << stop << ": " << r.err;
    EXPECT_EQ(o_.mem_queue_size, 7) << stop;
    EXPECT_EQ(r.err, "");
  }
}

TEST_F(FlagSetTest, LastScalarWinsAndListsAccumulate) {
  ASSERT_TRUE(run(flags_, {"-mem-queue-size=1", "-lookupd-tcp-address=a:1", "-mem-queue-size=2",
                           "--lookupd-tcp-address", "b:2", "-lookupd-tcp-address=a:1"})
                  .ran());
  EXPECT_EQ(o_.mem_queue_size, 2);
  EXPECT_EQ(o_.lookupd, (std::vector<std::string>{"a:1", "b:2", "a:1"}));
}

TEST_F(FlagSetTest, ListOccurrencesAppendToTheDefault) {
  std::vector<std::string> list{"d"};
  FlagSet flags("x");
  flags.add_string_list("item", &list, "items");
  ASSERT_TRUE(run(flags, {"-item=a", "-item=b"}).ran());
  EXPECT_EQ(list, (std::vector<std::string>{"d", "a", "b"}));
}

TEST_F(FlagSetTest, FloatListTakesCommaListsAndSortsDescending) {
  ASSERT_TRUE(run(flags_, {"-e2e-processing-latency-percentile=0.5,1.0",
                           "-e2e-processing-latency-percentile", "0.99"})
                  .ran());
  EXPECT_EQ(o_.percentiles, (std::vector<double>{1.0, 0.99, 0.5}));
}

TEST_F(FlagSetTest, FloatListBadEntryExitsOneLikeLogFatal) {
  Outcome r = run(flags_, {"-e2e-processing-latency-percentile=1.0,x", "-unknown"});
  EXPECT_TRUE(r.exited(1));
  // "2006/01/02 15:04:05 Could not parse: x"
  ASSERT_GE(r.err.size(), 20u);
  EXPECT_EQ(r.err.substr(20), "Could not parse: x\n");
  EXPECT_EQ(r.err[4], '/');
}

TEST_F(FlagSetTest, BoolStringFlag) {
  ASSERT_TRUE(run(flags_, {"-tls-required"}).ran());
  EXPECT_EQ(o_.tls_required, "true");
  ASSERT_TRUE(run(flags_, {"-tls-required=tcp-https"}).ran());
  EXPECT_EQ(o_.tls_required, "tcp-https");
  Outcome r = run(flags_, {"-tls-required", "false"});  // like a bool, `false` is not consumed
  ASSERT_TRUE(r.ran());
  EXPECT_EQ(o_.tls_required, "true");
  r = run(flags_, {"-tls-required=maybe"});
  EXPECT_TRUE(r.exited(2));
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')),
            R"(invalid boolean value "maybe" for -tls-required: strconv.ParseBool: parsing )"
            R"("maybe": invalid syntax)");
}

TEST_F(FlagSetTest, ValueFlag) {
  ASSERT_TRUE(run(flags_, {"-log-level=debug"}).ran());
  EXPECT_EQ(o_.log_level, "debug");
  Outcome r = run(flags_, {"-log-level", "loud"});
  EXPECT_TRUE(r.exited(2));
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')),
            R"(invalid value "loud" for flag -log-level: invalid log level 'loud')");
}

TEST_F(FlagSetTest, SingleLetterFlags) {
  int64_t n = 0;
  bool v = false;
  FlagSet flags("x");
  flags.add_int("n", &n, "count");
  flags.add_bool("v", &v, "verbose");
  ASSERT_TRUE(run(flags, {"-n", "3", "-v"}).ran());
  EXPECT_EQ(n, 3);
  EXPECT_TRUE(v);
  ASSERT_TRUE(run(flags, {"--n=4", "--v=false"}).ran());
  EXPECT_EQ(n, 4);
  EXPECT_FALSE(v);
}

// ---- errors and help -------------------------------------------------------------------------

TEST_F(FlagSetTest, UnknownFlagExitsTwoWithUsage) {
  for (const char* spelling : {"-foo", "--foo", "-foo=1", "--foo=1"}) {
    Outcome r = run(flags_, {spelling});
    EXPECT_TRUE(r.exited(2)) << spelling;
    EXPECT_EQ(r.err, "flag provided but not defined: -foo\n" + flags_.usage()) << spelling;
    EXPECT_EQ(r.out, "");
  }
}

TEST_F(FlagSetTest, BadValuesUseGoMessages) {
  struct Case {
    const char* arg;
    const char* message;
  };
  for (const Case& c : {
           Case{"-msg-timeout=5", R"(invalid value "5" for flag -msg-timeout: parse error)"},
           Case{"-msg-timeout=1x", R"(invalid value "1x" for flag -msg-timeout: parse error)"},
           Case{"-msg-timeout=", R"(invalid value "" for flag -msg-timeout: parse error)"},
           Case{"-mem-queue-size=abc",
                R"(invalid value "abc" for flag -mem-queue-size: parse error)"},
           Case{"-mem-queue-size=99999999999999999999",
                "invalid value \"99999999999999999999\" for flag -mem-queue-size: value out of "
                "range"},
           Case{"-deflate=maybe", R"(invalid boolean value "maybe" for -deflate: parse error)"},
           Case{"-deflate=", R"(invalid boolean value "" for -deflate: parse error)"},
           Case{"-msg-timeout", "flag needs an argument: -msg-timeout"},
           Case{"---foo", "bad flag syntax: ---foo"},
           Case{"-=x", "bad flag syntax: -=x"},
           Case{"--=x", "bad flag syntax: --=x"},
       }) {
    Outcome r = run(flags_, {c.arg});
    EXPECT_TRUE(r.exited(2)) << c.arg;
    EXPECT_EQ(r.err, std::string(c.message) + "\n" + flags_.usage()) << c.arg;
  }
}

TEST_F(FlagSetTest, InvalidValueIsQuotedLikeGo) {
  Outcome r = run(flags_, {"-mem-queue-size=a\"b\n"});
  EXPECT_EQ(r.err.substr(0, r.err.find("\nUsage")),
            R"(invalid value "a\"b\n" for flag -mem-queue-size: parse error)");
}

TEST_F(FlagSetTest, FirstProblemInCommandLineOrderWins) {
  Outcome r = run(flags_, {"-mem-queue-size=abc", "-foo"});
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')),
            R"(invalid value "abc" for flag -mem-queue-size: parse error)");
  r = run(flags_, {"-foo", "-mem-queue-size=abc"});
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')), "flag provided but not defined: -foo");
  // A bad value is reported even if a later occurrence would be fine.
  r = run(flags_, {"-msg-timeout=bad", "-msg-timeout=1s"});
  EXPECT_TRUE(r.exited(2));
  // Across different flags, too.
  r = run(flags_, {"-node-id=x", "-mem-queue-size=y"});
  EXPECT_EQ(r.err.substr(0, r.err.find('\n')),
            R"(invalid value "x" for flag -node-id: parse error)");
}

TEST_F(FlagSetTest, HelpPrintsUsageOnStderrAndExitsZero) {
  for (const char* spelling : {"-h", "-help", "--help", "--h", "-help=false", "-h=1"}) {
    Outcome r = run(flags_, {spelling});
    EXPECT_TRUE(r.exited(0)) << spelling;
    EXPECT_EQ(r.err, flags_.usage()) << spelling;
    EXPECT_EQ(r.out, "") << spelling;
  }
  // An earlier bad value still wins over -h.
  EXPECT_TRUE(run(flags_, {"-mem-queue-size=x", "-h"}).exited(2));
  // After the first non-flag, -h is ignored like everything else.
  EXPECT_TRUE(run(flags_, {"word", "-h"}).ran());
}

TEST_F(FlagSetTest, AProgramMayDefineHelpItself) {
  bool help = false;
  FlagSet flags("x");
  flags.add_bool("help", &help, "custom");
  EXPECT_TRUE(run(flags, {"-help"}).ran());
  EXPECT_TRUE(help);
  EXPECT_TRUE(run(flags, {"-h"}).exited(0));
}

TEST_F(FlagSetTest, RedefiningAFlagIsAProgrammingError) {
  std::string s;
  EXPECT_THROW(flags_.add_string("data-path", &s, "again"), std::invalid_argument);
}

// ---- usage -----------------------------------------------------------------------------------

TEST(FlagSetUsage, GoPrintDefaultsFormat) {
  std::string config, prefix = "[x] ", empty;
  std::string tls = "false";
  int64_t size = 10000, zero = 0;
  bool on = true, off = false, v = false;
  Duration timeout = 60s, zero_d = 0s, small = 250ms;
  std::vector<std::string> list;
  std::vector<std::string> list_default{"a", "b"};
  std::vector<double> floats;
  std::vector<double> float_default{1.0, 0.5};
  FlagSet flags("nsqd");
  flags.add_string("log-prefix", &prefix, "log message prefix");
  flags.add_string("config", &config, "path to config file", "-");
  flags.add_string("addr", &empty, "the `host:port` to use");
  flags.add_int("mem-queue-size", &size, "number of messages");
  flags.add_int("max-channel-consumers", &zero, "maximum consumers (default 0, i.e., unlimited)");
  flags.add_bool("deflate", &on, "enable deflate");
  flags.add_bool("verbose", &off, "has no effect");
  flags.add_bool("v", &v, "one-letter bool");
  flags.add_duration("msg-timeout", &timeout, "default duration");
  flags.add_duration("zero-timeout", &zero_d, "no default shown");
  flags.add_duration("output-buffer-timeout", &small, "line one\nline two");
  flags.add_string_list("lookupd-tcp-address", &list, "lookupd TCP address");
  flags.add_string_list("with-default", &list_default, "list");
  flags.add_float_list("percentile", &floats, "percentiles");
  flags.add_float_list("percentile-default", &float_default, "percentiles");
  flags.add_bool_string("tls-required", &tls, "require TLS");
  flags.add_value(
      "log-level", [](std::string_view, std::string&) { return true; }, "INFO",
      "set log verbosity");
  EXPECT_EQ(flags.usage(),
            "Usage of nsqd:\n"
            "  -addr host:port\n"
            "    \tthe host:port to use\n"
            "  -config string\n"
            "    \tpath to config file\n"
            "  -deflate\n"
            "    \tenable deflate (default true)\n"
            "  -log-level value\n"
            "    \tset log verbosity (default INFO)\n"
            "  -log-prefix string\n"
            "    \tlog message prefix (default \"[x] \")\n"
            "  -lookupd-tcp-address value\n"
            "    \tlookupd TCP address\n"
            "  -max-channel-consumers int\n"
            "    \tmaximum consumers (default 0, i.e., unlimited)\n"
            "  -mem-queue-size int\n"
            "    \tnumber of messages (default 10000)\n"
            "  -msg-timeout duration\n"
            "    \tdefault duration (default 1m0s)\n"
            "  -output-buffer-timeout duration\n"
            "    \tline one\n"
            "    \tline two (default 250ms)\n"
            "  -percentile value\n"
            "    \tpercentiles\n"
            "  -percentile-default value\n"
            "    \tpercentiles (default 1.000000,0.500000)\n"
            "  -tls-required\n"
            "    \trequire TLS\n"
            "  -v\tone-letter bool\n"
            "  -verbose\n"
            "    \thas no effect\n"
            "  -with-default value\n"
            "    \tlist (default a,b)\n"
            "  -zero-timeout duration\n"
            "    \tno default shown\n");
}

TEST(FlagSetUsage, NamelessProgram) {
  FlagSet flags("");
  EXPECT_EQ(flags.usage(), "Usage:\n");
}

// ---- config file -----------------------------------------------------------------------------

TEST_F(FlagSetTest, ConfigAppliesWhereTheCommandLineIsSilent) {
  const std::string path = write_config(
      "mem_queue_size = 5000\n"
      "msg_timeout = \"90s\"\n"
      "sync_timeout = 1500\n"  // integers are milliseconds
      "deflate = false\n"
      "id = 12\n"
      "tcp_address = \"1.2.3.4:5\"\n"
      "nsqlookupd_tcp_addresses = [\"a:1\", \"b:2\"]\n"
      "e2e_processing_latency_percentiles = [0.5, 1.0, 1]\n"
      "unknown_key = 1\n"
      "[some_table]\n"
      "x = 1\n");
  Outcome r = run(
      flags_, {"-config", path.c_str(), "-tcp-address=9.9.9.9:1", "-lookupd-tcp-address", "c:3"});
  ASSERT_TRUE(r.ran()) << r.err;
  EXPECT_EQ(o_.mem_queue_size, 5000);
  EXPECT_EQ(o_.msg_timeout, 90s);
  EXPECT_EQ(o_.sync_timeout, 1500ms);
  EXPECT_FALSE(o_.deflate);
  EXPECT_EQ(o_.node_id, 12);
  EXPECT_EQ(o_.tcp_address, "9.9.9.9:1");  // flag > config
  EXPECT_EQ(o_.lookupd, (std::vector<std::string>{"c:3"}));
  EXPECT_EQ(o_.percentiles, (std::vector<double>{0.5, 1.0, 1.0}));  // config order is kept
  EXPECT_EQ(o_.data_path, "");                                      // default
  EXPECT_FALSE(flags_.was_set("mem-queue-size"));
  EXPECT_EQ(r.err, "");
}

TEST_F(FlagSetTest, ExplicitFalseOnTheCommandLineBeatsConfigTrue) {
  const std::string path = write_config("deflate = true\nverbose = true\n");
  const std::string arg = "-config=" + path;
  ASSERT_TRUE(run(flags_, {"-deflate=false", arg.c_str()}).ran());
  EXPECT_FALSE(o_.deflate);
  EXPECT_FALSE(o_.verbose);  // config key "-": never read from the file
}

TEST_F(FlagSetTest, ConfigCoercions) {
  const std::string path = write_config(
      "mem_queue_size = \"42\"\n"
      "deflate = \"f\"\n"
      "msg_timeout = \"1h30m\"\n"
      "nsqlookupd_tcp_addresses = \"a:1,b:2\"\n"
      "e2e_processing_latency_percentiles = \"1.0, 0.99\"\n"
      "tls_required = \"tcp-https\"\n"
      "log_level = \"warn\"\n"
      "data_path = 7\n");
  const std::string arg = "-config=" + path;
  Outcome r = run(flags_, {arg.c_str()});
  ASSERT_TRUE(r.ran()) << r.err;
  EXPECT_EQ(o_.mem_queue_size, 42);
  EXPECT_FALSE(o_.deflate);
  EXPECT_EQ(o_.msg_timeout, 90min);
  EXPECT_EQ(o_.lookupd, (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_EQ(o_.percentiles, (std::vector<double>{1.0, 0.99}));
  EXPECT_EQ(o_.tls_required, "tcp-https");
  EXPECT_EQ(o_.log_level, "warn");
  EXPECT_EQ(o_.data_path, "7");
}

TEST_F(FlagSetTest, ConfigBoolsFromTomlBoolsAndIntegers) {
  const std::string path = write_config("deflate = 0\ntls_required = true\n");
  const std::string arg = "-config=" + path;
  ASSERT_TRUE(run(flags_, {arg.c_str()}).ran());
  EXPECT_FALSE(o_.deflate);
  EXPECT_EQ(o_.tls_required, "true");
}

TEST_F(FlagSetTest, ConfigEmptyStringListIsEmpty) {
  o_.lookupd = {"stale"};
  const std::string path = write_config("nsqlookupd_tcp_addresses = \"\"\n");
  const std::string arg = "-config=" + path;
  ASSERT_TRUE(run(flags_, {arg.c_str()}).ran());
  EXPECT_TRUE(o_.lookupd.empty());
}

TEST_F(FlagSetTest, ConfigBadValuesExitOne) {
  struct Case {
    const char* toml;
    const char* message;  // after the "2006/01/02 15:04:05 " log prefix, when there is one
  };
  for (const Case& c : {
           Case{"mem_queue_size = \"abc\"",
                "ERROR: Resolve failed to coerce value abc (10000) for config key mem_queue_size "
                "- strconv.ParseInt: parsing \"abc\": invalid syntax"},
           Case{"mem_queue_size = \"0x10\"",
                "ERROR: Resolve failed to coerce value 0x10 (10000) for config key "
                "mem_queue_size - strconv.ParseInt: parsing \"0x10\": invalid syntax"},
           Case{"mem_queue_size = 1.5",
                "ERROR: Resolve failed to coerce value 1.5 (10000) for config key mem_queue_size "
                "- invalid int64 value type float64"},
           Case{"msg_timeout = \"5\"",
                "ERROR: Resolve failed to coerce value 5 (1m0s) for config key msg_timeout - "
                "time: missing unit in duration \"5\""},
           Case{"msg_timeout = true",
                "ERROR: Resolve failed to coerce value true (1m0s) for config key msg_timeout - "
                "invalid time.Duration value type bool"},
           Case{"deflate = \"maybe\"",
                "ERROR: Resolve failed to coerce value maybe (true) for config key deflate - "
                "strconv.ParseBool: parsing \"maybe\": invalid syntax"},
           Case{"nsqlookupd_tcp_addresses = [1]",
                "ERROR: Resolve failed to coerce value [1] ([]) for config key "
                "nsqlookupd_tcp_addresses - invalid string value type int64"},
           Case{"e2e_processing_latency_percentiles = \"1.0, x\"",
                "ERROR: Resolve failed to coerce value 1.0, x ([]) for config key "
                "e2e_processing_latency_percentiles - strconv.ParseFloat: parsing \"x\": "
                "invalid syntax"},
           Case{"id = [1, 2]",
                "ERROR: Resolve failed to coerce value [1 2] (617) for config key id - invalid "
                "int64 value type []interface {}"},
       }) {
    const std::string path = write_config(c.toml);
    const std::string arg = "-config=" + path;
    Outcome r = run(flags_, {arg.c_str()});
    EXPECT_TRUE(r.exited(1)) << c.toml;
    ASSERT_GE(r.err.size(), 20u) << c.toml;
    EXPECT_EQ(r.err.substr(20), std::string(c.message) + "\n") << c.toml;
  }
}

TEST_F(FlagSetTest, ConfigBadValueForSetMethodFlags) {
  for (const char* toml : {"tls_required = \"maybe\"", "log_level = \"loud\""}) {
    const std::string path = write_config(toml);
    const std::string arg = "-config=" + path;
    Outcome r = run(flags_, {arg.c_str()});
    EXPECT_TRUE(r.exited(1)) << toml;
    const std::string key(toml, std::string_view(toml).find(' '));
    const std::string value = key == "tls_required" ? "maybe" : "loud";
    EXPECT_EQ(r.err, "failed parsing " + key + " " + value + "\n");
  }
}

TEST_F(FlagSetTest, ConfigFileProblems) {
  // lg.LogFatal's line, as nsqd/main.go reports it: "[nsqd] <date> <time.micros> FATAL: ...".
  const std::regex fatal(R"(\[nsqd\] \d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6} FATAL: (.*)\n)");
  std::smatch m;
  Outcome r = run(flags_, {"-config=/nonexistent/nsqd.toml"});
  EXPECT_TRUE(r.exited(1));
  ASSERT_TRUE(std::regex_match(r.err, m, fatal)) << r.err;
  EXPECT_EQ(m[1].str(),
            "failed to load config file /nonexistent/nsqd.toml - open /nonexistent/nsqd.toml: no "
            "such file or directory");

  const std::string path = write_config("x = = 1\n");
  const std::string arg = "-config=" + path;
  r = run(flags_, {arg.c_str()});
  EXPECT_TRUE(r.exited(1));
  ASSERT_TRUE(std::regex_match(r.err, m, fatal)) << r.err;
  EXPECT_EQ(m[1].str().rfind("failed to load config file " + path + " - toml: line 1: ", 0), 0u)
      << r.err;
}

TEST_F(FlagSetTest, VersionSkipsTheConfigFile) {
  Outcome r = run(flags_, {"-config=/nonexistent/nsqd.toml", "-version"});
  EXPECT_TRUE(r.ran());
  EXPECT_TRUE(o_.version);
  EXPECT_EQ(r.err, "");
}

TEST_F(FlagSetTest, ConfigDefaultPathIsLoadedToo) {
  o_.config = write_config("mem_queue_size = 3\n");
  FlagSet flags("nsqd");
  flags.add_string("config", &o_.config, "path");
  flags.add_int("mem-queue-size", &o_.mem_queue_size, "size");
  ASSERT_TRUE(run(flags, {}).ran());
  EXPECT_EQ(o_.mem_queue_size, 3);
}

}  // namespace
}  // namespace nsq::config
