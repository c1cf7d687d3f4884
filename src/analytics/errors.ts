// Expected failures of analytics reads: an unknown environment or feature, a bad cursor.
// Queries answer them as GraphQL errors, the export route with the matching HTTP status.
import { AppError } from '../errors/app-errors.js';

export class AnalyticsLookupError extends AppError {
  declare readonly code: 'NOT_FOUND' | 'FEATURE_NOT_FOUND' | 'INVALID_INPUT';
  constructor(code: 'NOT_FOUND' | 'FEATURE_NOT_FOUND' | 'INVALID_INPUT', message: string) {
    super(code, message);
  }
}
