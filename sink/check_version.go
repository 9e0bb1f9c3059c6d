package sink

import (
	"context"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kadm"
)

// checkVersions asks every broker of meta for its API versions (kadm, as
// Check does everything) and returns a note for Check's "brokers answer"
// line, e.g. ", Produce v13, like Kafka 4.4 or later" (the broker with the
// lowest Produce version; "" when none answered), and a failed finding
// when a broker cannot store record headers (BrokerVersionError). A broker
// that does not answer is left to the other findings.
func checkVersions(ctx context.Context, adm *kadm.Client, meta kadm.Metadata) (string, *CheckResult) {
	vs, err := adm.ApiVersions(ctx)
	if err != nil {
		return "", nil
	}
	var lowest *brokerAPIs
	for _, v := range vs.Sorted() {
		if v.Err != nil {
			continue
		}
		b := fromKeys(checkBrokerAddr(meta, v.NodeID), v.Raw().ApiKeys)
		if old := b.tooOld(); old != nil {
			e := old.(*BrokerVersionError)
			return "", &CheckResult{What: e.Problem(), Fix: e.Fix()}
		}
		if lowest == nil || b.produce < lowest.produce {
			lowest = &b
		}
	}
	if lowest == nil {
		return "", nil
	}
	return ", " + lowest.summary(), nil
}

// checkBrokerAddr is the host:port of node id in meta.
func checkBrokerAddr(meta kadm.Metadata, id int32) string {
	for _, b := range meta.Brokers {
		if b.NodeID == id {
			return net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
		}
	}
	return "node " + strconv.Itoa(int(id))
}
