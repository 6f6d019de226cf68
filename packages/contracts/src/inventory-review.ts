// The InventoryReview a worker POSTs to the operator's inventory webhook and the answer it reads
// (docs/inventory-review.md). The version is in every message: a change that is not backwards
// compatible gets a new one, and both sides refuse a version they do not speak.
export const INVENTORY_API_VERSION = 'stampede.io/v1alpha1';
export const INVENTORY_REVIEW_KIND = 'InventoryReview';
