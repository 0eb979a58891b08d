#include "nsqd/storage/metadata.hpp"

#include <nlohmann/json.hpp>

#include "common/disk/atomic_file.hpp"
#include "common/gocompat/go_json.hpp"
#include "nsq/protocol/names.hpp"

namespace nsq::nsqd {

namespace {

using ordered_json = nlohmann::ordered_json;

// Go matches struct field names case-insensitively (strings.EqualFold). Our field names are
// ASCII; the one non-ASCII fold that can reach them is U+017F (long s) for 's'.
bool key_matches(std::string_view key, std::string_view field) {
  size_t k = 0;
  for (char f : field) {
    if (k >= key.size()) return false;
    unsigned char c = static_cast<unsigned char>(key[k]);
    if (f == 's' && c == 0xC5 && k + 1 < key.size() &&
        static_cast<unsigned char>(key[k + 1]) == 0xBF) {
      k += 2;
      continue;
    }
    if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
    if (c != static_cast<unsigned char>(f)) return false;
    ++k;
  }
  return k == key.size();
}

// SAX decoder with Go encoding/json semantics for the Metadata schema.
class MetadataSax {
 public:
  using json = nlohmann::json;

  explicit MetadataSax(Metadata& out) : out_(out) {}

  const std::string& error() const { return error_; }

  bool null() { return scalar(Kind::kNull, nullptr, nullptr); }
  bool boolean(bool v) { return scalar(Kind::kBool, &v, nullptr); }
  bool number_integer(json::number_integer_t) { return scalar(Kind::kNumber, nullptr, nullptr); }
  bool number_unsigned(json::number_unsigned_t) { return scalar(Kind::kNumber, nullptr, nullptr); }
  bool number_float(json::number_float_t, const std::string&) {
    return scalar(Kind::kNumber, nullptr, nullptr);
  }
  bool string(std::string& v) { return scalar(Kind::kString, nullptr, &v); }
  bool binary(json::binary_t&) { return true; }  // not produced by the JSON reader

  bool start_object(std::size_t) {
    Target t = target();
    switch (t) {
      case Target::kSkip:
        return push(Frame::kSkip);
      case Target::kRoot:
        return push(Frame::kMeta);
      case Target::kTopicElem:
        out_.topics.emplace_back();
        return push(Frame::kTopic);
      case Target::kChannelElem:
        out_.topics.back().channels.emplace_back();
        return push(Frame::kChannel);
      default:
        return type_error(t, Kind::kObject);
    }
  }

  bool start_array(std::size_t) {
    Target t = target();
    switch (t) {
      case Target::kSkip:
        return push(Frame::kSkip);
      case Target::kTopics:
        out_.topics.clear();
        return push(Frame::kTopics);
      case Target::kChannels:
        out_.topics.back().channels.clear();
        return push(Frame::kChannels);
      default:
        return type_error(t, Kind::kArray);
    }
  }

  bool key(std::string& k) {
    Frame& f = stack_.back();
    f.field = Field::kUnknown;
    switch (f.kind) {
      case Frame::kMeta:
        if (key_matches(k, "topics")) f.field = Field::kTopics;
        if (key_matches(k, "version")) f.field = Field::kVersion;
        break;
      case Frame::kTopic:
        if (key_matches(k, "name")) f.field = Field::kName;
        if (key_matches(k, "paused")) f.field = Field::kPaused;
        if (key_matches(k, "channels")) f.field = Field::kChannels;
        break;
      case Frame::kChannel:
        if (key_matches(k, "name")) f.field = Field::kName;
        if (key_matches(k, "paused")) f.field = Field::kPaused;
        break;
      default:
        break;
    }
    return true;
  }

  bool end_object() {
    stack_.pop_back();
    return true;
  }
  bool end_array() {
    stack_.pop_back();
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) {
    // Only reached for input Go's checker accepted but nlohmann does not (e.g. a number too
    // large for a double); keep nlohmann's explanation.
    if (error_.empty()) error_ = ex.what();
    return false;
  }

 private:
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  enum class Field { kUnknown, kTopics, kVersion, kName, kPaused, kChannels };
  enum class Target {
    kSkip,
    kRoot,
    kTopics,
    kTopicElem,
    kVersion,
    kTopicName,
    kTopicPaused,
    kChannels,
    kChannelElem,
    kChannelName,
    kChannelPaused,
  };
  struct Frame {
    enum KindT { kSkip, kMeta, kTopics, kTopic, kChannels, kChannel } kind;
    Field field = Field::kUnknown;
  };

  bool push(Frame::KindT k) {
    stack_.push_back(Frame{k});
    return true;
  }

  // What the next value will be decoded into.
  Target target() const {
    if (stack_.empty()) return Target::kRoot;
    const Frame& f = stack_.back();
    switch (f.kind) {
      case Frame::kSkip:
        return Target::kSkip;
      case Frame::kMeta:
        if (f.field == Field::kTopics) return Target::kTopics;
        if (f.field == Field::kVersion) return Target::kVersion;
        return Target::kSkip;
      case Frame::kTopics:
        return Target::kTopicElem;
      case Frame::kTopic:
        if (f.field == Field::kName) return Target::kTopicName;
        if (f.field == Field::kPaused) return Target::kTopicPaused;
        if (f.field == Field::kChannels) return Target::kChannels;
        return Target::kSkip;
      case Frame::kChannels:
        return Target::kChannelElem;
      case Frame::kChannel:
        if (f.field == Field::kName) return Target::kChannelName;
        if (f.field == Field::kPaused) return Target::kChannelPaused;
        return Target::kSkip;
    }
    return Target::kSkip;
  }

  bool scalar(Kind kind, const bool* b, std::string* s) {
    Target t = target();
    if (t == Target::kSkip) return true;
    if (kind == Kind::kNull) {
      // null: slices become nil, an array element becomes the zero value, anything else keeps
      // its value.
      switch (t) {
        case Target::kTopics:
          out_.topics.clear();
          break;
        case Target::kChannels:
          out_.topics.back().channels.clear();
          break;
        case Target::kTopicElem:
          out_.topics.emplace_back();
          break;
        case Target::kChannelElem:
          out_.topics.back().channels.emplace_back();
          break;
        default:
          break;
      }
      return true;
    }
    switch (t) {
      case Target::kVersion:
        if (kind != Kind::kString) return type_error(t, kind);
        out_.version = std::move(*s);
        return true;
      case Target::kTopicName:
        if (kind != Kind::kString) return type_error(t, kind);
        out_.topics.back().name = std::move(*s);
        return true;
      case Target::kChannelName:
        if (kind != Kind::kString) return type_error(t, kind);
        out_.topics.back().channels.back().name = std::move(*s);
        return true;
      case Target::kTopicPaused:
        if (kind != Kind::kBool) return type_error(t, kind);
        out_.topics.back().paused = *b;
        return true;
      case Target::kChannelPaused:
        if (kind != Kind::kBool) return type_error(t, kind);
        out_.topics.back().channels.back().paused = *b;
        return true;
      default:
        return type_error(t, kind);
    }
  }

  // Go's UnmarshalTypeError text. Go keeps decoding after one and reports the first; since the
  // result is discarded anyway we stop at the first.
  bool type_error(Target t, Kind kind) {
    static constexpr const char* kKinds[] = {"null", "bool", "number", "string", "array", "object"};
    const char* what = kKinds[static_cast<int>(kind)];
    const char* field = "";
    const char* type = "";
    switch (t) {
      case Target::kRoot:
        error_ =
            std::string("json: cannot unmarshal ") + what + " into Go value of type nsqd.Metadata";
        return false;
      case Target::kTopics:
        field = "Metadata.topics", type = "[]nsqd.TopicMetadata";
        break;
      case Target::kTopicElem:
        field = "Metadata.topics", type = "nsqd.TopicMetadata";
        break;
      case Target::kVersion:
        field = "Metadata.version", type = "string";
        break;
      case Target::kTopicName:
        field = "TopicMetadata.topics.name", type = "string";
        break;
      case Target::kTopicPaused:
        field = "TopicMetadata.topics.paused", type = "bool";
        break;
      case Target::kChannels:
        field = "TopicMetadata.topics.channels", type = "[]nsqd.ChannelMetadata";
        break;
      case Target::kChannelElem:
        field = "TopicMetadata.topics.channels", type = "nsqd.ChannelMetadata";
        break;
      case Target::kChannelName:
        field = "ChannelMetadata.topics.channels.name", type = "string";
        break;
      case Target::kChannelPaused:
        field = "ChannelMetadata.topics.channels.paused", type = "bool";
        break;
      case Target::kSkip:
        return true;
    }
    error_ = std::string("json: cannot unmarshal ") + what + " into Go struct field " + field +
             " of type " + type;
    return false;
  }

  Metadata& out_;
  std::vector<Frame> stack_;
  std::string error_;
};

}  // namespace

std::string serialize_metadata(const Metadata& m) {
  ordered_json topics = nullptr;
  for (const auto& t : m.topics) {
    if (protocol::is_ephemeral_name(t.name)) continue;
    ordered_json channels = nullptr;
    for (const auto& c : t.channels) {
      if (protocol::is_ephemeral_name(c.name)) continue;
      ordered_json jc = ordered_json::object();
      jc["name"] = c.name;
      jc["paused"] = c.paused;
      channels.push_back(std::move(jc));
    }
    ordered_json jt = ordered_json::object();
    jt["name"] = t.name;
    jt["paused"] = t.paused;
    jt["channels"] = std::move(channels);
    topics.push_back(std::move(jt));
  }
  ordered_json doc = ordered_json::object();
  doc["topics"] = std::move(topics);
  doc["version"] = m.version;
  // replace: never throw on bad UTF-8 (Go writes U+FFFD too).
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

util::Result<Metadata> parse_metadata(std::string_view json, std::vector<std::string>* warnings) {
  // Go checks the whole input's syntax before decoding anything, so syntax errors win.
  if (std::string syntax = gocompat::go_json_syntax_error(json); !syntax.empty()) {
    return util::fail(std::move(syntax));
  }
  Metadata decoded;
  decoded.version.clear();
  MetadataSax sax(decoded);
  const std::string text = gocompat::go_json_coerce_utf8(json);
  if (!nlohmann::json::sax_parse(text, &sax)) {
    return util::fail(sax.error().empty() ? "invalid metadata" : sax.error());
  }

  Metadata out;
  out.version = std::move(decoded.version);
  for (auto& t : decoded.topics) {
    if (!protocol::is_valid_topic_name(t.name)) {
      if (warnings) warnings->push_back("skipping creation of invalid topic " + t.name);
      continue;
    }
    TopicMetadata kept{std::move(t.name), t.paused, {}};
    for (auto& c : t.channels) {
      if (!protocol::is_valid_channel_name(c.name)) {
        if (warnings) warnings->push_back("skipping creation of invalid channel " + c.name);
        continue;
      }
      kept.channels.push_back(std::move(c));
    }
    out.topics.push_back(std::move(kept));
  }
  return out;
}

std::string metadata_file_path(const std::string& data_path) {
  return disk::join_path(data_path, "nsqd.dat");
}

util::Result<Metadata> load_metadata_file(const std::string& data_path,
                                          std::vector<std::string>* warnings, disk::FileOps* ops) {
  const std::string fn = metadata_file_path(data_path);
  const auto data = disk::read_whole_file(fn, ops);
  if (!data) return util::fail("failed to read metadata from " + fn + " - " + data.error());
  if (!*data) return Metadata{};  // fresh start
  auto m = parse_metadata(**data, warnings);
  if (!m) return util::fail("failed to parse metadata in " + fn + " - " + m.error());
  return m;
}

util::Status save_metadata_file(const std::string& data_path, const Metadata& m,
                                disk::FileOps* ops) {
  return disk::write_file_atomically(metadata_file_path(data_path), serialize_metadata(m), ops);
}

}  // namespace nsq::nsqd
