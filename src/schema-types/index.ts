// Placeholder until issue 3 lands the real table types.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Database {}
