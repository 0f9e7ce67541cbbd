// The bundle entry: the official SDK's public API. chat.mjs imports the
// bundle once per simulated user, so that each gets its own WKSDK
// singleton (the SDK keeps one connection per module instance).
export { default as WKSDK } from 'wukongimjssdk/lib/index';
export { Channel, MessageText } from 'wukongimjssdk/lib/model';
export { ConnectStatus } from 'wukongimjssdk/lib/connect_manager';
