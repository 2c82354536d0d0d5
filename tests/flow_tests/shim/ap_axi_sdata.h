// TEST SHIM of AMD's ap_axi_sdata.h, for g++ C simulation of hil's AXI-stream top in the tests.
// Only what UG1399 ("AXI4-Stream Interfaces with Side-Channels") documents of hls::axis<T, WUser,
// WId, WDest>: the members data, keep, strb, user, last, id, dest (keep/strb one bit per byte of
// T; a zero-width side channel is given one bit here, as the real header does for C simulation).
#ifndef HIL_TEST_SHIM_AP_AXI_SDATA_H
#define HIL_TEST_SHIM_AP_AXI_SDATA_H
#include <cstddef>
#include "ap_int.h"

namespace hls {
template <typename T, std::size_t WUser, std::size_t WId, std::size_t WDest>
struct axis {
    T data;
    ap_uint<sizeof(T)> keep;
    ap_uint<sizeof(T)> strb;
    ap_uint<(WUser > 0) ? WUser : 1> user;
    ap_uint<1> last;
    ap_uint<(WId > 0) ? WId : 1> id;
    ap_uint<(WDest > 0) ? WDest : 1> dest;
};
}  // namespace hls
#endif
