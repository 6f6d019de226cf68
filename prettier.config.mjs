/** One formatting config for the whole repository; never debated again. */
export default {
  printWidth: 100,
  singleQuote: true,
  trailingComma: 'all',
  arrowParens: 'avoid',
};
