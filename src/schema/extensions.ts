// Markers that schema types carry for the HTTP layer's checks.

/**
 * Extension of an input object type whose string fields its domain checks item by item (a
 * batch answers each item on its own, so one bad item must not refuse the others): the input
 * integrity check leaves their text to the domain.
 */
export const CHECKS_OWN_TEXT = 'checksOwnText';
