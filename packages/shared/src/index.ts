export * from './dto';
export * from './events';
export * from './phone';
export * from './sms';
export * from './vonage';
export * from './inputs';
export * from './campaign';
export * from './providers';
