package sink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// CheckResult is one finding of Check: OK, or a problem and its fix. A
// problem with Warn set does not stop walrelay from streaming.
type CheckResult struct {
	OK   bool
	Warn bool
	What string
	Fix  string
}

// Check verifies what `walrelay check` needs from Kafka: the brokers answer
// (and each one takes record headers: Kafka 0.11 or later, checkVersions),
// and this client may create topics (a validate-only CreateTopics request for
// probeTopic with the configured partitions, replication factor and topic
// configuration, so nothing is created). cfg is validated first.
//
// It uses franz-go's admin client, with cfg's TLS and SASL settings: kafka-go's
// Client waits for a topic that a validate-only request never creates, until
// its request timeout. Rejected credentials and TLS failures are one finding
// whose fix names the kafka.sasl or kafka.tls setting.
func Check(ctx context.Context, cfg Config, probeTopic string) []CheckResult {
	if err := cfg.Validate(); err != nil {
		return []CheckResult{{What: err.Error(), Fix: "fix the kafka section of the config"}}
	}
	var watch connWatch
	var tc *tls.Config
	if cfg.TLS != nil {
		tc = cfg.TLS.Clone()
	}
	cl, err := cfg.kgoClient(kgo.RequestRetries(2), kgo.Dialer(watch.dialer(tc, kgoDialTimeout)))
	if err != nil {
		return []CheckResult{{What: "kafka: " + err.Error(), Fix: "check kafka.brokers"}}
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	defer cancel()
	meta, err := adm.BrokerMetadata(ctx)
	if err != nil {
		return []CheckResult{connectFinding(err, &cfg, watch.seen(cfg.RequestTimeout, false))}
	}
	versions, tooOld := checkVersions(ctx, adm, meta)
	out := []CheckResult{{OK: true, What: fmt.Sprintf("kafka: %d broker(s) answer, cluster %s%s", len(meta.Brokers), meta.Cluster, versions)}}
	if tooOld != nil {
		out = append(out, *tooOld)
	}
	if cfg.TopicReplicationFactor > len(meta.Brokers) {
		out = append(out, CheckResult{What: fmt.Sprintf("kafka.topic_replication_factor %d exceeds the %d broker(s)", cfg.TopicReplicationFactor, len(meta.Brokers)),
			Fix: fmt.Sprintf("set kafka.topic_replication_factor to at most %d", len(meta.Brokers))})
	}
	out = append(out, checkCreate(ctx, adm, cfg, probeTopic))
	if tooOld == nil { // a broker before 0.11 has no producer ids either: the upgrade is the fix
		out = append(out, checkIdempotence(ctx, &cfg))
	}
	if w, ok := checkMinInsync(&cfg); ok {
		out = append(out, w)
	}
	return out
}

// checkMinInsync warns about a kafka.topic_config min.insync.replicas above
// kafka.topic_replication_factor: with acks=all no write to a topic walrelay
// creates could succeed on Kafka before 4.0 (Kafka 4 caps it at the
// replication factor). An unparsable value is the broker's to refuse
// (checkCreate).
func checkMinInsync(cfg *Config) (CheckResult, bool) {
	v, ok := cfg.TopicConfig["min.insync.replicas"]
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if !ok || err != nil || n <= cfg.TopicReplicationFactor {
		return CheckResult{}, false
	}
	return CheckResult{Warn: true,
		What: fmt.Sprintf("kafka.topic_config min.insync.replicas %d exceeds kafka.topic_replication_factor %d: walrelay writes with acks=all, "+
			"which Kafka before 4.0 then refuses on every topic walrelay creates (NOT_ENOUGH_REPLICAS)", n, cfg.TopicReplicationFactor),
		Fix: fmt.Sprintf("set min.insync.replicas to at most %d, or raise kafka.topic_replication_factor", cfg.TopicReplicationFactor)}, true
}

// checkIdempotence asks for a producer id as New does: a refusal fails the
// check only when cfg.Idempotence is IdempotenceOn.
func checkIdempotence(ctx context.Context, cfg *Config) CheckResult {
	switch {
	case cfg.Idempotence == IdempotenceOff:
		return CheckResult{OK: true, What: "kafka: idempotent writes off (kafka.idempotence: false)"}
	case cfg.Compression != "none":
		return CheckResult{OK: true, What: "kafka: writes without idempotence (it needs kafka.compression: none)"}
	}
	p, err := requestProducerID(ctx, cfg)
	switch {
	case err == nil:
		return CheckResult{OK: true, What: fmt.Sprintf("kafka: idempotent writes allowed (producer id %d)", p.id)}
	case cfg.Idempotence == IdempotenceAuto && refusesIdempotence(err):
		return CheckResult{OK: true, What: fmt.Sprintf("kafka: the cluster refuses a producer id (%v): walrelay will write without idempotence", err)}
	}
	return CheckResult{What: fmt.Sprintf("kafka: no producer id for idempotent writes: %v", err),
		Fix: "grant IDEMPOTENT_WRITE on the cluster (or WRITE on the topics, Kafka 3.0+), or set kafka.idempotence: false"}
}

// checkCreate asks the cluster whether probeTopic could be created, with
// the configured partitions, replication factor and topic_config.
func checkCreate(ctx context.Context, adm *kadm.Client, cfg Config, probeTopic string) CheckResult {
	var configs map[string]*string
	for name, value := range cfg.TopicConfig {
		if configs == nil {
			configs = map[string]*string{}
		}
		configs[name] = &value
	}
	res, err := adm.ValidateCreateTopics(ctx, int32(cfg.TopicPartitions), int16(cfg.TopicReplicationFactor), configs, probeTopic)
	if err == nil {
		err = res[probeTopic].Err
	}
	switch {
	case err == nil, errors.Is(err, kerr.TopicAlreadyExists):
		return CheckResult{OK: true, What: "kafka: this client may create topics"}
	case errors.Is(err, kerr.InvalidConfig):
		return CheckResult{What: fmt.Sprintf("kafka: the broker refuses kafka.topic_config %v: %v", cfg.TopicConfig, err),
			Fix: "fix kafka.topic_config (topic-level settings, e.g. cleanup.policy: compact)"}
	case errors.Is(err, kerr.TopicAuthorizationFailed), errors.Is(err, kerr.ClusterAuthorizationFailed):
		return CheckResult{What: fmt.Sprintf("kafka: not allowed to create topics: %v", err),
			Fix: "grant CREATE on the cluster or on topics with the prefix, or create the topics yourself"}
	}
	return CheckResult{What: fmt.Sprintf("kafka: topic creation would fail: %v", err),
		Fix: "check kafka.topic_partitions and kafka.topic_replication_factor against the cluster"}
}

// connectFinding describes a failed first request to the brokers, with the
// same hint as New's error (connectHint) from what the connections saw.
func connectFinding(err error, cfg *Config, seen connSeen) CheckResult {
	sec, fix := connectFix(err, cfg, "check kafka.brokers and that the brokers are running and reachable from here", seen)
	if sec != nil {
		return CheckResult{What: fmt.Sprintf("kafka brokers %v: %s: %v", cfg.Brokers, sec.Problem, sec.Err), Fix: sec.Fix}
	}
	return CheckResult{What: fmt.Sprintf("kafka brokers %v do not answer: %v", cfg.Brokers, err), Fix: fix}
}
