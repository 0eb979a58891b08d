// JsonWriter: compact JSON text byte-identical to Go's encoding/json, which NSQ's HTTP APIs
// use: `<`, `>`, `&`, U+2028 and U+2029 escaped as \u003c..., invalid UTF-8 replaced by
// \ufffd, floats in Go's shortest form (`1`, `0.99`, `1e+21`, `1e-07`), no spaces.
// Callers write keys and values in order; commas are inserted automatically.
// A plain value object; not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nsq::gocompat {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& string(std::string_view s);
  JsonWriter& number(int64_t v);
  JsonWriter& number(uint64_t v);
  JsonWriter& number(int v) { return number(static_cast<int64_t>(v)); }
  JsonWriter& number(double v);
  JsonWriter& boolean(bool v);
  JsonWriter& null();
  // Inserts already-encoded JSON as one value.
  JsonWriter& raw(std::string_view json);

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void before_value();

  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

// Appends `s` as a Go-encoded JSON string (with quotes).
void append_json_string(std::string& out, std::string_view s);
// Go's float64 encoding in encoding/json (NaN/Inf are not representable: written as 0).
std::string format_go_json_float(double v);

}  // namespace nsq::gocompat
