// Query strings and URL escapes the way Go's net/url reads them, because NSQ's HTTP APIs are
// defined by what url.ParseQuery accepts: '&'-separated pairs, '+' is a space, a bad %-escape
// or a ';' makes the whole parse fail (-> 400 INVALID_REQUEST), a key may repeat and handlers
// use its first value. Pure functions, no I/O; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/result.hpp"

namespace nsq::http {

// The parsed pairs of a query string, keys in sorted order (like Go's url.Values map), values
// in the order they appeared.
class QueryParams {
 public:
  // First value of `key`, or nullopt when the key is absent ("?topic=" gives "").
  std::optional<std::string_view> get(std::string_view key) const;
  bool has(std::string_view key) const { return values_.find(key) != values_.end(); }
  const std::vector<std::string>* all(std::string_view key) const;
  void add(std::string key, std::string value);
  bool empty() const { return values_.empty(); }
  const std::map<std::string, std::vector<std::string>, std::less<>>& values() const {
    return values_;
  }

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
};

// url.ParseQuery: fails with Go's message for the first problem (e.g. `invalid URL escape
// "%zz"`, `invalid semicolon separator in query`).
util::Result<QueryParams> parse_query(std::string_view raw);

// url.QueryUnescape ('+' -> ' ') and url.PathUnescape ('+' kept). False on a bad escape.
bool query_unescape(std::string_view in, std::string& out);
bool path_unescape(std::string_view in, std::string& out);

// url.QueryEscape: everything but [A-Za-z0-9-_.~] escaped, ' ' -> '+'.
std::string query_escape(std::string_view in);
// Escapes a URL path the way Go's URL.EscapedPath does for ordinary paths.
std::string path_escape(std::string_view in);

}  // namespace nsq::http
