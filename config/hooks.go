package config

// checkSchemaRegistry validates schema_registry (owned by the Avro work).
func (c *Config) checkSchemaRegistry() *Error { return nil }

// checkFilter validates rules, mask_salt and publication (owned by the filter work).
func (c *Config) checkFilter() *Error { return nil }
