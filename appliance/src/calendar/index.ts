/**
 * The calendar room's door: the exchanges' trading calendar, from shipped closure data
 * (appliance/data/calendar) and operator files, refusing to guess for a year it has no data for.
 */
export {
  TradingCalendar,
  loadTradingCalendar,
  type DayInfo,
  type DayKind,
  type LoadCalendarOptions,
} from './calendar.js';
export { parseYearFile, readYearDir, shippedCalendarDir, type YearData, type YearFile } from './data.js';
export { CalendarDataError, CalendarUsageError, CalendarYearUnknownError } from './errors.js';
export { addDays, cstIsoDate, dayNumber, isIsoDate, isWeekend, weekday, yearOf } from './dates.js';
