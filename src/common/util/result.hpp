// util::Result / util::Status live in the public include/nsq/result.hpp, so that the sans-IO
// protocol layer (nsq_proto) and the daemons share one error type: a codec's Status passes
// through the server code unchanged. This header keeps the daemons' include path.
#pragma once

#include "nsq/result.hpp"
