// Package event holds the few small types that walrelay's stages share: a row
// change (Change) with its relation and transaction, the typed column values a
// change carries, and an encoded Kafka record (Record) with the acknowledgement
// that travels with it.
//
// The stages (replication, decoder, filter, schema, sink, checkpoint) import
// this package and not each other; the pipeline package wires them together.
package event
