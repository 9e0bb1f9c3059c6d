package testenv

// PartitionedDDL creates a range-partitioned table pt (id, k, v) with two
// partitions, pt_a (k 0..9) and pt_b (k 10..19, itself partitioned, with
// pt_b1), and a plain table plain (id): the shape the publication and
// capture tests of partitioned tables share.
const PartitionedDDL = `CREATE TABLE pt (id int, k int, v text, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);
CREATE TABLE pt_a PARTITION OF pt FOR VALUES FROM (0) TO (10);
CREATE TABLE pt_b PARTITION OF pt FOR VALUES FROM (10) TO (20) PARTITION BY RANGE (k);
CREATE TABLE pt_b1 PARTITION OF pt_b FOR VALUES FROM (10) TO (20);
CREATE TABLE plain (id int PRIMARY KEY);`
