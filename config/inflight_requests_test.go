package config

import "testing"

// kafka.max_in_flight_requests defaults to 32, takes a value from the file
// or WALRELAY_KAFKA_MAX_IN_FLIGHT_REQUESTS, and refuses less than 1.
func TestMaxInFlightRequests(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body string
		env        []string
		want       int
	}{
		{"default", minimal, nil, 32},
		{"file", minimal + "  max_in_flight_requests: 4\n", nil, 4},
		{"env", minimal, []string{"WALRELAY_KAFKA_MAX_IN_FLIGHT_REQUESTS=7"}, 7},
	} {
		c, err := Load(writeConfig(t, tc.body), tc.env)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
		} else if got := c.Kafka.MaxInFlightRequests; got != tc.want {
			t.Errorf("%s: max_in_flight_requests %d, want %d", tc.name, got, tc.want)
		}
	}
	for _, v := range []string{"0", "-1"} {
		ce, _ := loadErr(t, minimal+"  max_in_flight_requests: "+v+"\n")
		if ce.Key != "kafka.max_in_flight_requests" {
			t.Errorf("%s: error names %q, want kafka.max_in_flight_requests: %v", v, ce.Key, ce)
		}
	}
}
