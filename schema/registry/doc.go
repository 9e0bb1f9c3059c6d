// Package registry gives the Avro encoder schema IDs from a
// Confluent-compatible schema registry, and can be that registry itself.
//
// Client is the encoder's side: ID returns the ID of a schema under a subject
// from an in-memory subject+fingerprint cache, so the encoding hot path makes
// no HTTP calls. On a miss it asks its Backend whether the schema is already
// registered; if not, it checks the schema against the subject's history
// with the effective compatibility level (the subject's own level in the
// registry, else the configured one) in-process with hamba/avro's
// SchemaCompatibility, and registers it. An incompatible schema is refused
// with an *IncompatibleError that lists each field that breaks and how.
// Client.Latest returns the text of a subject's latest version as registered,
// field properties included, from which the encoder keeps a relation's
// field names after a process restart (the pipeline keeps what the encoders
// derived across its sessions: schema.AvroMemory).
//
// Two Backends exist: HTTPBackend talks to any Confluent-compatible
// registry by URL through hamba/avro/v2/registry, with basic auth and TLS
// (for Apicurio's ccompat API, whose GET /config/{subject} reports the global
// level for a subject without its own, it reads the subject's level from the
// artifact's COMPATIBILITY rule in Apicurio's native API: apicurio.go);
// Store is the embedded registry, whose schemas, subjects, versions and
// subject-level compatibility are persisted in <data_dir>/registry/, so that
// IDs stay the same across restarts.
//
// Server serves a Store over HTTP with the subset of the Confluent REST API
// that consumers and operators use:
//
//	GET    /schemas/ids/{id}                  {"schema": "..."}
//	GET    /schemas/ids/{id}/schema           the schema itself
//	GET    /schemas/types                     ["AVRO"]
//	GET    /subjects                          ["a-value", ...]
//	GET    /subjects/{s}/versions             [1, 2]
//	GET    /subjects/{s}/versions/{v}         {"subject","version","id","schema"}; v may be "latest" or -1
//	GET    /subjects/{s}/versions/{v}/schema  the schema itself
//	POST   /subjects/{s}/versions             register: {"id": n}
//	POST   /subjects/{s}                      look up: {"subject","version","id","schema"}
//	GET    /config                            {"compatibilityLevel": "BACKWARD"}
//	PUT    /config                            {"compatibility": "FULL"} (until restart)
//	GET    /config/{s}                        the subject's level (40408 when it has none;
//	                                          ?defaultToGlobal=true falls back to the global one)
//	PUT    /config/{s}, DELETE /config/{s}    set or remove the subject's level (persisted)
//	POST   /compatibility/subjects/{s}/versions/{v}  {"is_compatible": bool}
//	POST   /compatibility/subjects/{s}/versions      against the versions the level names
//
// Responses use Confluent's content type (application/vnd.schemaregistry.v1+json),
// status codes and error bodies: {"error_code":40401,"message":"Subject 'x' not found."}
// (40401 subject, 40402 version, 40403 schema not found, 40408 no subject-level
// compatibility, 42201 invalid schema, 42202 invalid version, 42203 invalid
// compatibility level, 409 incompatible schema, 404/405 for unknown routes and methods).
//
// Identity of a schema is its JSON text with object keys sorted and
// whitespace removed, properties included: two schemas that differ only in a
// decimal's scale or a connect.name are different schemas, as in Confluent's
// registry. The Parsing Canonical Form would strip those properties, so it is
// not used for identity.
package registry
