/* SPDX-License-Identifier: MIT */
/*
 * The receiver-index table (WireGuard paper section 5.4.2): maps the random
 * 32-bit index we hand to a peer in our handshake messages to the handshake
 * or keypair it names, so that a response or data message finds its session
 * in O(1) without trial decryption. Entries are embedded in their owners.
 */
#ifndef TUND_INDEX_H
#define TUND_INDEX_H

#include <stddef.h>
#include <stdint.h>

struct peer;

enum index_type {
	INDEX_HANDSHAKE = 1 << 0,
	INDEX_KEYPAIR = 1 << 1,
};

/* Embedded in struct noise_handshake and struct noise_keypair. */
struct index_entry {
	struct index_entry *next; /* bucket chain; owned by the table */
	struct peer *peer;        /* borrowed: the peer outlives its entries */
	uint32_t index;           /* host order; 0 when not in the table */
	enum index_type type;
	unsigned char is_hashed;
};

struct index_table;

int index_table_create(struct index_table **out);
/* Entries still present are unhooked, not freed (their owners free them). */
void index_table_destroy(struct index_table *t);

/*
 * Give entry a fresh random index not in use and insert it (removing any
 * previous index of the entry first). Returns the index, or 0 on failure
 * (-ENOMEM while growing: the entry is then out of the table).
 */
uint32_t index_table_insert(struct index_table *t, struct index_entry *entry);
/* new takes over old's index; old leaves the table. */
void index_table_replace(struct index_table *t, struct index_entry *old, struct index_entry *new);
void index_table_remove(struct index_table *t, struct index_entry *entry);
/* The entry of index if its type is in type_mask, else NULL. */
struct index_entry *index_table_lookup(const struct index_table *t, unsigned int type_mask,
				       uint32_t index);
size_t index_table_count(const struct index_table *t);

#endif
