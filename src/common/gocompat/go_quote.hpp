// Go's strconv.Quote (the `%q` verb), used verbatim in NSQ error strings such as
// `E_BAD_TOPIC PUB topic name "a b" is not valid`; clients match on these texts.
#pragma once

#include <string>
#include <string_view>

namespace nsq::gocompat {

std::string go_quote(std::string_view s);

}  // namespace nsq::gocompat
